-- A month's investor pack: profit, growth and engagement side by side for
-- one month. Pick the month with --vars '{pack_month: "2025-06-01"}'
-- (default: the last closed month as of as_of: data on every day and the
-- late-data window passed; an open month is never shown as closed).
-- Governed metrics: every figure here is a metric of the semantic layer, for
-- every month at once: .venv/bin/mf query --saved-query investor_pack_monthly
-- (net_revenue, gross_profit, contribution_profit, gross_margin,
-- monthly_active_users, new_users, mau_growth_rate, daily_active_users,
-- stickiness, sessions_per_active_user, minutes_per_session,
-- events_per_session; docs/semantic-layer.md).
{%- set pack_month = var('pack_month', none) %}
with

profit as (

    select * from {{ ref('fct_profit_monthly') }}

),

growth as (

    select * from {{ ref('fct_growth_monthly') }}

),

engagement as (

    select * from {{ ref('fct_engagement_monthly') }}

),

pack_month as (

    {% if pack_month -%}
        select cast('{{ pack_month }}' as date) as month
    {%- else -%}
        select max(month) as month
        from growth
        where is_closed
    {%- endif %}

)

select
    pack_month.month,
    profit.net_revenue_usd,
    profit.gross_profit_usd,
    profit.contribution_profit_usd,
    profit.gross_margin_rate,
    growth.monthly_active_users,
    growth.new_users,
    growth.mau_growth_rate,
    engagement.avg_daily_active_users,
    engagement.stickiness_rate,
    engagement.sessions_per_active_user,
    engagement.avg_session_minutes,
    engagement.events_per_session

from pack_month
left join profit
    on pack_month.month = profit.month
left join growth
    on pack_month.month = growth.month
left join engagement
    on pack_month.month = engagement.month
