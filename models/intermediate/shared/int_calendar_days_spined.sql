-- One row per calendar day over a fixed, generous range (vars calendar_start
-- and calendar_end); marts cut it to their own first and last day of data.
with

days as (

    {{ dbt.date_spine(
        'day',
        "cast('" ~ var('calendar_start', '2015-01-01') ~ "' as date)",
        "cast('" ~ var('calendar_end', '2036-01-01') ~ "' as date)"
    ) }}

),

final as (

    select
        cast(date_day as date) as date_day,
        {{ month_start('date_day') }} as month_start_date,
        {{ fiscal_quarter('date_day') }} as fiscal_quarter

    from days

)

select * from final
