-- The audit step of the investors' monthly engagement: computed and tested
-- here, published by fct_engagement_monthly only when every blocking test
-- upstream passed.
with

completeness as (

    select * from {{ ref('int_events_completeness_monthly') }}

),

months as (

    select * from {{ ref('int_activity_months_aggregated') }}

),

sessions as (

    select * from {{ ref('int_events_sessionized') }}

),

monthly_sessions as (

    select
        session_month,
        count(*) as sessions,
        sum(event_count) as session_events,
        avg(session_minutes) as avg_session_minutes

    from sessions
    group by session_month

),

final as (

    select
        months.activity_month as month,
        cast(months.avg_daily_active_users as {{ type_double() }}) as avg_daily_active_users,
        cast(months.monthly_active_users as bigint) as monthly_active_users,
        {{ safe_divide('months.avg_daily_active_users', 'months.monthly_active_users') }}
            as stickiness_rate,
        {{ safe_divide('monthly_sessions.sessions', 'months.monthly_active_users') }}
            as sessions_per_active_user,
        cast(monthly_sessions.avg_session_minutes as {{ type_double() }}) as avg_session_minutes,
        {{ safe_divide('monthly_sessions.session_events', 'monthly_sessions.sessions') }}
            as events_per_session,
        cast(coalesce(monthly_sessions.sessions, 0) as bigint) as sessions,
        coalesce(completeness.input_completeness_rate, 1.0) as input_completeness_rate,
        {{ period_status('months.activity_month', 'month', 'months.days_with_data') }}

    from months
    left join monthly_sessions
        on months.activity_month = monthly_sessions.session_month
    left join completeness
        on months.activity_month = completeness.received_month

)

select * from final
