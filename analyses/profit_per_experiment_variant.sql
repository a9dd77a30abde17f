-- Profit per experiment variant: contribution profit per assigned user for
-- orders placed on or after the user's assignment, by experiment and variant.
-- Governed metrics: contribution_profit_per_assigned_user and
-- experiment_contribution_profit (.venv/bin/mf query --saved-query
-- experiment_readout; docs/semantic-layer.md): the same figures. Test
-- accounts are neither assigned users nor profit (a test restates this
-- analysis against the marts: tests/python/analyses).
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

users as (

    select * from {{ ref('stg_app__users') }}

),

variant_users as (

    select
        assignments.experiment_id,
        assignments.variant,
        count(*) as assigned_users

    from assignments
    inner join users
        on assignments.user_id = users.user_id
    where not users.is_test_account
    group by assignments.experiment_id, assignments.variant

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
