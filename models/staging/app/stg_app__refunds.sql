with

source as (

    select * from {{ source('app', 'refunds') }}

),

renamed as (

    select
        cast(refund_id as {{ dbt.type_string() }}) as refund_id,
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        cast(refunded_at as {{ dbt.type_timestamp() }}) as refunded_at,
        cast(refunded_at as date) as refunded_date,
        cast(amount as decimal(18, 2)) as amount,
        reason,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as _loaded_at

    from source

)

select * from renamed
