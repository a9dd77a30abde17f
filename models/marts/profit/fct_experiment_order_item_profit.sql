-- Unit-level profit of the experiments: each order line of a non-test user
-- (fct_order_item_profit) under each experiment assignment of that user it
-- was ordered on or after. The semantic layer's profit per assigned user
-- and variant (docs/semantic-layer.md).
with

assignments as (

    select * from {{ ref('stg_app__experiment_assignments') }}

),

order_lines as (

    select * from {{ ref('fct_order_item_profit') }}

),

final as (

    select
        {{ experiment_variant_id('assignments.experiment_id', 'assignments.variant') }}
            as experiment_variant_id,
        assignments.experiment_id,
        assignments.variant,
        order_lines.order_item_id,
        order_lines.order_id,
        order_lines.user_id,
        assignments.assigned_date,
        order_lines.ordered_date,
        order_lines.net_revenue_usd,
        order_lines.gross_profit_usd,
        order_lines.contribution_profit_usd

    from assignments
    inner join order_lines
        on
            assignments.user_id = order_lines.user_id
            and assignments.assigned_date <= order_lines.ordered_date

)

select
    experiment_variant_id,
    experiment_id,
    variant,
    order_item_id,
    order_id,
    user_id,
    assigned_date,
    ordered_date,
    net_revenue_usd,
    gross_profit_usd,
    contribution_profit_usd

from final
