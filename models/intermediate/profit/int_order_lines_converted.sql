-- Order lines of non-cancelled orders of non-test users, in USD: net revenue
-- at the order date's FX rate, COGS at the unit cost valid on the order date.
-- Missing rates or costs stay NULL (tested), never silently 0.
with

order_items as (

    select * from {{ ref('stg_app__order_items') }}

),

orders as (

    select * from {{ ref('stg_app__orders') }}

),

users as (

    select * from {{ ref('stg_app__users') }}

),

fx_rates as (

    select * from {{ ref('stg_finance__fx_rates') }}

),

product_costs as (

    select * from {{ ref('stg_finance__product_costs') }}

),

billable_orders as (

    select
        orders.order_id,
        orders.user_id,
        orders.ordered_at,
        orders.ordered_date,
        orders.currency,
        orders.shipping_cost

    from orders
    inner join users
        on orders.user_id = users.user_id
    where
        not orders.is_cancelled
        and not users.is_test_account

),

-- per order: the base of every allocation to its lines (an aggregate joined
-- back, not a window over every line: DuckDB spills an aggregate to disk,
-- and the window held all 25M lines at scale 10)
order_totals as (

    select
        order_id,
        sum(net_revenue_local) as order_net_revenue_local,
        count(*) as order_line_count

    from order_items
    group by order_id

),

lines as (

    select
        order_items.order_item_id,
        order_items.order_id,
        billable_orders.user_id,
        order_items.product_id,
        billable_orders.ordered_at,
        billable_orders.ordered_date,
        billable_orders.currency,
        billable_orders.shipping_cost,
        order_items.quantity,
        order_items.net_revenue_local,
        order_totals.order_net_revenue_local,
        order_totals.order_line_count

    from order_items
    inner join billable_orders
        on order_items.order_id = billable_orders.order_id
    inner join order_totals
        on order_items.order_id = order_totals.order_id

),

converted as (

    select
        lines.*,
        fx_rates.usd_per_unit,
        product_costs.unit_cost_usd,
        {{ usd_round('lines.net_revenue_local * fx_rates.usd_per_unit') }} as net_revenue_usd,
        {{ usd_round('lines.quantity * product_costs.unit_cost_usd') }} as cogs_usd

    from lines
    left join fx_rates
        on
            lines.currency = fx_rates.currency
            and lines.ordered_date = fx_rates.rate_date
    left join product_costs
        on
            lines.product_id = product_costs.product_id
            and lines.ordered_date >= product_costs.valid_from
            -- an open-ended cost (valid_to null) as a far-future bound, not an
            -- OR: the OR turned this into a nested-loop join (7.6 s of the
            -- model's 15 s at scale 1); this way it is a hash join on product_id
            and lines.ordered_date
            < coalesce(product_costs.valid_to, {{ dbt.cast("'9999-12-31'", "date") }})

)

select * from converted
