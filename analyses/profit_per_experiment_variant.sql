-- Profit per experiment variant: contribution profit per assigned user for
-- orders placed on or after the user's assignment, by experiment and variant.
-- Governed metrics: contribution_profit_per_assigned_user and
-- experiment_contribution_profit (uv run mf query --saved-query
-- experiment_readout; docs/semantic-layer.md). The profit is the same; the
-- assigned_users below count test accounts too, the metric's do not.
with

assignments as (

    select * from {{ ref('stg_app__experiment_assignments') }}

),

order_lines as (

    select * from {{ ref('fct_order_item_profit') }}

),

experiments as (

    select * from {{ ref('experiments') }}

),

variant_users as (

    select
        experiment_id,
        variant,
        count(*) as assigned_users

    from assignments
    group by experiment_id, variant

),

variant_profit as (

    select
        assignments.experiment_id,
        assignments.variant,
        sum(order_lines.net_revenue_usd) as net_revenue_usd,
        sum(order_lines.gross_profit_usd) as gross_profit_usd,
        sum(order_lines.contribution_profit_usd) as contribution_profit_usd,
        count(distinct order_lines.order_id) as orders

    from assignments
    inner join order_lines
        on
            assignments.user_id = order_lines.user_id
            and assignments.assigned_date <= order_lines.ordered_date
    group by assignments.experiment_id, assignments.variant

)

select
    variant_users.experiment_id,
    experiments.experiment_name,
    variant_users.variant,
    variant_users.assigned_users,
    variant_profit.orders,
    variant_profit.net_revenue_usd,
    variant_profit.contribution_profit_usd,
    variant_profit.contribution_profit_usd / variant_users.assigned_users
        as contribution_profit_per_assigned_user

from variant_users
left join variant_profit
    on
        variant_users.experiment_id = variant_profit.experiment_id
        and variant_users.variant = variant_profit.variant
left join experiments
    on variant_users.experiment_id = experiments.experiment_id
order by variant_users.experiment_id, variant_users.variant
