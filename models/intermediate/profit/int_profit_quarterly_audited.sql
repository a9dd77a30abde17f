with

monthly as (

    select * from {{ ref('int_profit_monthly_audited') }}

),

filings as (

    select * from {{ ref('stg_finance__filings') }}

),

by_quarter as (

    select
        {{ fiscal_quarter('month') }} as fiscal_quarter,
        min(month) as quarter_start_month,
        cast({{ dbt.date_trunc('quarter', 'min(month)') }} as date) as quarter_start_date,
        count(*) as months_in_data,
        sum(days_with_data) as days_with_data,
        sum(net_revenue_usd) as net_revenue_usd,
        sum(cogs_usd) as cogs_usd,
        sum(refunds_usd) as refunds_usd,
        sum(shipping_usd) as shipping_usd,
        sum(payment_fees_usd) as payment_fees_usd,
        sum(input_rows) as input_rows,
        sum(complete_input_rows) as complete_input_rows

    from monthly
    group by 1

),

filed as (

    select
        fiscal_quarter,
        max(case when metric = 'net_revenue' then reported_usd end) as reported_net_revenue_usd,
        max(case when metric = 'gross_profit' then reported_usd end) as reported_gross_profit_usd,
        max(case when metric = 'contribution_profit' then reported_usd end)
            as reported_contribution_profit_usd,
        max(filed_on) as filed_on

    from filings
    group by 1

),

final as (

    select
        by_quarter.fiscal_quarter,
        by_quarter.quarter_start_month,
        by_quarter.months_in_data,
        cast(by_quarter.net_revenue_usd as decimal(18, 2)) as net_revenue_usd,
        cast(by_quarter.cogs_usd as decimal(18, 2)) as cogs_usd,
        cast(by_quarter.refunds_usd as decimal(18, 2)) as refunds_usd,
        cast(by_quarter.shipping_usd as decimal(18, 2)) as shipping_usd,
        cast(by_quarter.payment_fees_usd as decimal(18, 2)) as payment_fees_usd,
        {{ profit_measures(
            'by_quarter.net_revenue_usd', 'by_quarter.cogs_usd', 'by_quarter.refunds_usd',
            'by_quarter.shipping_usd', 'by_quarter.payment_fees_usd'
        ) }},
        coalesce({{ safe_divide('by_quarter.complete_input_rows', 'by_quarter.input_rows') }}, 1.0)
            as input_completeness_rate,
        {{ period_status('by_quarter.quarter_start_date', 'quarter', 'by_quarter.days_with_data') }},
        filed.reported_net_revenue_usd,
        filed.reported_gross_profit_usd,
        filed.reported_contribution_profit_usd,
        filed.filed_on

    from by_quarter
    left join filed
        on by_quarter.fiscal_quarter = filed.fiscal_quarter

)

select * from final
