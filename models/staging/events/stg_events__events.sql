-- Deduplicated clickstream: the clickstream delivers at least once, so the
-- same event_id can arrive several times; keep its first delivery.
with

source as (

    select * from {{ source('events', 'events') }}

),

renamed as (

    select
        cast(event_id as {{ dbt.type_string() }}) as event_id,
        cast(user_id as {{ dbt.type_string() }}) as user_id,
        cast(session_id as {{ dbt.type_string() }}) as session_id,
        lower(trim(event_name)) as event_name,
        cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
        cast(occurred_at as date) as occurred_date,
        cast(received_at as {{ dbt.type_timestamp() }}) as received_at,
        lower(trim(platform)) as platform,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as _loaded_at

    from source

),

deduplicated as (

    select
        *,
        row_number() over (
            partition by event_id
            order by received_at, _loaded_at
        ) as delivery_number

    from renamed

)

select
    event_id,
    user_id,
    session_id,
    event_name,
    occurred_at,
    occurred_date,
    received_at,
    platform,
    _loaded_at

from deduplicated
where delivery_number = 1
