with

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
        cast(coalesce(monthly_sessions.sessions, 0) as bigint) as sessions

    from months
    left join monthly_sessions
        on months.activity_month = monthly_sessions.session_month

)

select
    month,
    avg_daily_active_users,
    monthly_active_users,
    stickiness_rate,
    sessions_per_active_user,
    avg_session_minutes,
    events_per_session,
    sessions

from final
