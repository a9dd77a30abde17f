with

source as (

    select * from {{ source('app', 'users') }}

),

renamed as (

    select
        cast(user_id as {{ dbt.type_string() }}) as user_id,
        cast(signed_up_at as {{ dbt.type_timestamp() }}) as signed_up_at,
        cast(signed_up_at as date) as signed_up_date,
        upper(trim(country)) as country,
        lower(trim(acquisition_channel)) as acquisition_channel,
        is_test_account,
        cast(deleted_at as {{ dbt.type_timestamp() }}) as deleted_at,
        deleted_at is not null as is_deleted,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as _loaded_at

    from source

)

select * from renamed
