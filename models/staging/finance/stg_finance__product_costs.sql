with

source as (

    select * from {{ source('finance', 'product_costs') }}

),

renamed as (

    select
        cast(product_id as {{ dbt.type_string() }}) as product_id,
        cast(valid_from as date) as valid_from,
        cast(valid_to as date) as valid_to,
        cast(unit_cost_usd as decimal(18, 4)) as unit_cost_usd,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as _loaded_at

    from source

)

select * from renamed
