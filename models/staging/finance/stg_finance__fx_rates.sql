with

source as (

    select * from {{ source('finance', 'fx_rates') }}

),

renamed as (

    select
        cast(rate_date as date) as rate_date,
        upper(trim(currency)) as currency,
        cast(usd_per_unit as decimal(18, 8)) as usd_per_unit,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as _loaded_at

    from source

)

select * from renamed
