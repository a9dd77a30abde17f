-- Published for investors: the audited figures of int_engagement_monthly_audited,
-- built only when every blocking test upstream passed; otherwise dbt build
-- skips this model and the last good table stays (docs/data-quality.md).
-- Tests that read a second model (reconciliations) gate it through these
-- (`prometheus check-gates` fails the test command when one is missing):
-- depends_on: {{ ref('stg_analytics__active_user_counts') }}
-- depends_on: {{ ref('fct_activity_metrics_daily') }}
with

audited as (

    select * from {{ ref('int_engagement_monthly_audited') }}

)

select
    month,
    avg_daily_active_users,
    monthly_active_users,
    stickiness_rate,
    sessions_per_active_user,
    avg_session_minutes,
    events_per_session,
    sessions,
    input_completeness_rate,
    days_in_period,
    days_with_data,
    is_closed

from audited
