-- The audit step of the investors' monthly profit: computed here, tested here
-- (reconciliation with the ledger, missing values), and published by
-- fct_profit_monthly only when every blocking test upstream passed.
with

order_lines as (

    select * from {{ ref('int_order_lines_allocated') }}

),

refund_lines as (

    select * from {{ ref('int_refunds_allocated_to_lines') }}

),

calendar as (

    select * from {{ ref('int_calendar_days_spined') }}

),

by_order_month as (

    select
        {{ month_start('ordered_date') }} as month,
        sum(net_revenue_usd) as net_revenue_usd,
        sum(cogs_usd) as cogs_usd,
        sum(shipping_usd) as shipping_usd,
        sum(payment_fees_usd) as payment_fees_usd,
        min(ordered_date) as first_ordered_date,
        max(ordered_date) as last_ordered_date,
        count(*) as order_lines,
        sum(
            case
                when
                    net_revenue_usd is not null
                    and cogs_usd is not null
                    and shipping_usd is not null
                    and payment_fees_usd is not null
                    then 1
                else 0
            end
        ) as complete_order_lines

    from order_lines
    group by 1

),

by_refund_month as (

    select
        refunded_month as month,
        sum(refunds_usd) as refunds_usd,
        count(*) as refund_lines,
        sum(case when refunds_usd is not null then 1 else 0 end) as complete_refund_lines

    from refund_lines
    group by 1

),

order_span as (

    -- the span of order data: a month's days outside it have no data yet
    select
        min(first_ordered_date) as first_date,
        max(last_ordered_date) as last_date

    from by_order_month

),

month_span as (

    select
        min(month) as first_month,
        max(month) as last_month

    from (
        select month from by_order_month
        union all
        select month from by_refund_month
    ) as months

),

bounds as (

    select
        month_span.first_month,
        month_span.last_month,
        order_span.first_date,
        order_span.last_date

    from month_span
    cross join order_span

),

months as (

    select
        calendar.month_start_date as month,
        sum(
            case
                when calendar.date_day between bounds.first_date and bounds.last_date then 1
                else 0
            end
        ) as days_with_data

    from calendar
    inner join bounds
        on calendar.month_start_date between bounds.first_month and bounds.last_month
    group by 1

),

combined as (

    select
        months.month,
        months.days_with_data,
        coalesce(by_order_month.net_revenue_usd, 0) as net_revenue_usd,
        coalesce(by_order_month.cogs_usd, 0) as cogs_usd,
        coalesce(by_refund_month.refunds_usd, 0) as refunds_usd,
        coalesce(by_order_month.shipping_usd, 0) as shipping_usd,
        coalesce(by_order_month.payment_fees_usd, 0) as payment_fees_usd,
        coalesce(by_order_month.order_lines, 0) + coalesce(by_refund_month.refund_lines, 0)
            as input_rows,
        coalesce(by_order_month.complete_order_lines, 0)
        + coalesce(by_refund_month.complete_refund_lines, 0) as complete_input_rows

    from months
    left join by_order_month
        on months.month = by_order_month.month
    left join by_refund_month
        on months.month = by_refund_month.month

),

final as (

    select
        month,
        input_rows,
        complete_input_rows,
        cast(net_revenue_usd as decimal(18, 2)) as net_revenue_usd,
        cast(cogs_usd as decimal(18, 2)) as cogs_usd,
        cast(refunds_usd as decimal(18, 2)) as refunds_usd,
        cast(shipping_usd as decimal(18, 2)) as shipping_usd,
        cast(payment_fees_usd as decimal(18, 2)) as payment_fees_usd,
        {{ profit_measures(
            'net_revenue_usd', 'cogs_usd', 'refunds_usd', 'shipping_usd', 'payment_fees_usd'
        ) }},
        coalesce({{ safe_divide('complete_input_rows', 'input_rows') }}, 1.0)
            as input_completeness_rate,
        {{ period_status('month', 'month', 'days_with_data') }}

    from combined

)

select * from final
