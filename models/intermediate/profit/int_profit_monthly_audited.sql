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

bounds as (

    select
        min(month) as first_month,
        max(month) as last_month

    from (
        select month from by_order_month
        union all
        select month from by_refund_month
    ) as months

),

months as (

    select distinct calendar.month_start_date as month

    from calendar
    inner join bounds
        on calendar.month_start_date between bounds.first_month and bounds.last_month

),

combined as (

    select
        months.month,
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
            as input_completeness_rate

    from combined

)

select * from final
