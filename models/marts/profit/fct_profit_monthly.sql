with

order_lines as (

    select * from {{ ref('fct_order_item_profit') }}

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
        sum(payment_fees_usd) as payment_fees_usd

    from order_lines
    group by 1

),

by_refund_month as (

    select
        refunded_month as month,
        sum(refunds_usd) as refunds_usd

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
        coalesce(by_order_month.payment_fees_usd, 0) as payment_fees_usd

    from months
    left join by_order_month
        on months.month = by_order_month.month
    left join by_refund_month
        on months.month = by_refund_month.month

),

final as (

    select
        month,
        cast(net_revenue_usd as decimal(18, 2)) as net_revenue_usd,
        cast(cogs_usd as decimal(18, 2)) as cogs_usd,
        cast(refunds_usd as decimal(18, 2)) as refunds_usd,
        cast(net_revenue_usd - cogs_usd - refunds_usd as decimal(18, 2)) as gross_profit_usd,
        cast(shipping_usd as decimal(18, 2)) as shipping_usd,
        cast(payment_fees_usd as decimal(18, 2)) as payment_fees_usd,
        cast(
            net_revenue_usd - cogs_usd - refunds_usd - shipping_usd - payment_fees_usd
            as decimal(18, 2)
        ) as contribution_profit_usd,
        {{ safe_divide('net_revenue_usd - cogs_usd - refunds_usd', 'net_revenue_usd') }}
            as gross_margin_rate

    from combined

)

select
    month,
    net_revenue_usd,
    cogs_usd,
    refunds_usd,
    gross_profit_usd,
    shipping_usd,
    payment_fees_usd,
    contribution_profit_usd,
    gross_margin_rate

from final
