-- One row per refund and order line: each refund allocated to the order's
-- lines by net revenue share, in USD at the refund date's rate; it lands in
-- the month of refunded_at.
with

refunds as (

    select * from {{ ref('stg_app__refunds') }}

),

lines as (

    select * from {{ ref('int_order_lines_converted') }}

),

fx_rates as (

    select * from {{ ref('stg_finance__fx_rates') }}

),

allocated as (

    select
        refunds.refund_id,
        lines.order_item_id,
        lines.order_id,
        refunds.refunded_at,
        refunds.refunded_date,
        {{ month_start('refunds.refunded_date') }} as refunded_month,
        {{ allocate_usd(
            'refunds.amount', 'fx_rates.usd_per_unit',
            'lines.net_revenue_local', 'lines.order_net_revenue_local', 'lines.order_line_count'
        ) }} as refunds_usd

    from refunds
    inner join lines
        on refunds.order_id = lines.order_id
    left join fx_rates
        on
            lines.currency = fx_rates.currency
            and refunds.refunded_date = fx_rates.rate_date

)

select * from allocated
