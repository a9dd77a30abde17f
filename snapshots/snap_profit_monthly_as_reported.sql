{#- As-reported record of fct_profit_monthly: every closed month's figures as each
    run published them. A later restatement of a month already reported
    shows as a new version (dbt_valid_from) beside the old one. -#}
{% snapshot snap_profit_monthly_as_reported %}

{{ config(
    unique_key='month',
    strategy='check',
    check_cols='all',
    group='business_analytics',
    meta={'pipeline': 'aggregate_profit'},
) }}

    -- every published column is recorded, so the select is a wildcard
    select * from {{ ref('fct_profit_monthly') }}  -- noqa: AM04
    where is_closed  -- an open month is not reported yet

{% endsnapshot %}
