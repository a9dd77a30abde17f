with

source as (

    select * from {{ source('finance', 'filings') }}

),

renamed as (

    select
        cast(fiscal_quarter as {{ dbt.type_string() }}) as fiscal_quarter,
        lower(trim(metric)) as metric,
        cast(reported_usd as decimal(18, 2)) as reported_usd,
        cast(filed_on as date) as filed_on,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as _loaded_at

    from source

)

select * from renamed
