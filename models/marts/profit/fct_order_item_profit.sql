with

lines as (

    select * from {{ ref('int_order_lines_allocated') }}

),

refund_lines as (

    select * from {{ ref('int_refunds_allocated_to_lines') }}

),

line_refunds as (

    select
        order_item_id,
        sum(refunds_usd) as refunds_usd

    from refund_lines
    group by order_item_id

),

final as (

    select
        lines.order_item_id,
        lines.order_id,
        lines.user_id,
        lines.product_id,
        lines.ordered_date,
        lines.currency,
        lines.quantity,
        cast(lines.net_revenue_usd as decimal(18, 2)) as net_revenue_usd,
        cast(lines.cogs_usd as decimal(18, 2)) as cogs_usd,
        cast(coalesce(line_refunds.refunds_usd, 0) as decimal(18, 2)) as refunds_usd,
        cast(lines.shipping_usd as decimal(18, 2)) as shipping_usd,
        cast(lines.payment_fees_usd as decimal(18, 2)) as payment_fees_usd,
        {{ profit_measures(
            'lines.net_revenue_usd', 'lines.cogs_usd', 'coalesce(line_refunds.refunds_usd, 0)',
            'lines.shipping_usd', 'lines.payment_fees_usd', with_margin=false
        ) }}

    from lines
    left join line_refunds
        on lines.order_item_id = line_refunds.order_item_id

)

select
    order_item_id,
    order_id,
    user_id,
    product_id,
    ordered_date,
    currency,
    quantity,
    net_revenue_usd,
    cogs_usd,
    refunds_usd,
    shipping_usd,
    payment_fees_usd,
    gross_profit_usd,
    contribution_profit_usd

from final
