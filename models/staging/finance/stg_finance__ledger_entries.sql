with

source as (

    select * from {{ source('finance', 'ledger_entries') }}

),

renamed as (

    select
        cast(entry_id as {{ dbt.type_string() }}) as entry_id,
        cast(posted_date as date) as posted_date,
        {{ month_start('posted_date') }} as posted_month,
        lower(trim(account)) as account,
        cast(amount_usd as decimal(18, 2)) as amount_usd,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as _loaded_at

    from source

)

select * from renamed
