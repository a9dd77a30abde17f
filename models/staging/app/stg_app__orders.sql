with

source as (

    select * from {{ source('app', 'orders') }}

),

renamed as (

    select
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        cast(user_id as {{ dbt.type_string() }}) as user_id,
        cast(ordered_at as {{ dbt.type_timestamp() }}) as ordered_at,
        cast(ordered_at as date) as ordered_date,
        lower(trim(status)) as status,
        lower(trim(status)) = 'cancelled' as is_cancelled,
        upper(trim(currency)) as currency,
        cast(shipping_cost as decimal(18, 2)) as shipping_cost,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as _loaded_at

    from source

)

select * from renamed
