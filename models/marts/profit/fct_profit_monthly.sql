-- Published for investors: the audited figures of int_profit_monthly_audited,
-- built only when every blocking test upstream passed; otherwise dbt build
-- skips this model and the last good table stays (docs/data-quality.md).
-- Tests that read a second model (reconciliations) gate it through these
-- (`prometheus check-gates` fails the test command when one is missing):
-- depends_on: {{ ref('stg_finance__ledger_entries') }}
-- depends_on: {{ ref('ledger_accounts') }}
-- depends_on: {{ ref('fct_profit_metrics_daily') }}
with

audited as (

    select * from {{ ref('int_profit_monthly_audited') }}

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
    gross_margin_rate,
    input_completeness_rate,
    days_in_period,
    days_with_data,
    is_closed

from audited
