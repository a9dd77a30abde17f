with

source as (

    select * from {{ source('app', 'payments') }}

),

renamed as (

    select
        cast(payment_id as {{ dbt.type_string() }}) as payment_id,
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        cast(paid_at as {{ dbt.type_timestamp() }}) as paid_at,
        lower(trim(status)) as status,
        lower(trim(status)) = 'captured' as is_captured,
        cast(amount as decimal(18, 2)) as amount,
        cast(processor_fee as decimal(18, 2)) as processor_fee,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as _loaded_at

    from source

)

select * from renamed
