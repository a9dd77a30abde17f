-- Order lines with the order's shipping cost and captured payments' processor
-- fees allocated by net revenue share, in USD at the order date's rate.
with

lines as (

    select * from {{ ref('int_order_lines_converted') }}

),

payments as (

    select * from {{ ref('stg_app__payments') }}

),

order_fees as (

    select
        order_id,
        sum(processor_fee) as processor_fee_local

    from payments
    where is_captured
    group by order_id

),

allocated as (

    select
        -- carries every column of int_order_lines_converted
        lines.*,
        {{ allocate_usd(
            'lines.shipping_cost', 'lines.usd_per_unit',
            'lines.net_revenue_local', 'lines.order_net_revenue_local', 'lines.order_line_count'
        ) }} as shipping_usd,
        coalesce(
            {{ allocate_usd(
                'order_fees.processor_fee_local', 'lines.usd_per_unit',
                'lines.net_revenue_local', 'lines.order_net_revenue_local', 'lines.order_line_count'
            ) }},
            case when order_fees.order_id is null then 0 end
        ) as payment_fees_usd

    from lines
    left join order_fees
        on lines.order_id = order_fees.order_id

)

-- every column of int_order_lines_converted plus the allocations
select * from allocated  -- noqa: AM04
