{#- As-reported record of fct_engagement_monthly: every closed month's figures as each
    run published them. A later restatement of a month already reported
    shows as a new version (dbt_valid_from) beside the old one. -#}
{% snapshot snap_engagement_monthly_as_reported %}

{{ config(
    unique_key='month',
    strategy='check',
    check_cols='all',
    group='business_analytics',
    meta={'pipeline': 'aggregate_engagement'},
) }}

    -- every published column is recorded, so the select is a wildcard
    select * from {{ ref('fct_engagement_monthly') }}  -- noqa: AM04
    where is_closed  -- an open month is not reported yet

{% endsnapshot %}
