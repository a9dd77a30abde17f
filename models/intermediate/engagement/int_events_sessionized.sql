-- One row per session of a non-test user: its deduplicated events (those
-- carrying a user_id), from the first to the last event. A session belongs
-- to the day and month of its first event, also when it crosses midnight.
with

events as (

    select * from {{ ref('stg_events__events') }}

),

users as (

    select * from {{ ref('stg_app__users') }}

),

user_events as (

    select
        events.session_id,
        events.user_id,
        events.occurred_at

    from events
    inner join users
        on events.user_id = users.user_id
    where not users.is_test_account

),

sessions as (

    select
        session_id,
        min(user_id) as user_id,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at,
        count(*) as event_count

    from user_events
    group by session_id

),

final as (

    select
        session_id,
        user_id,
        started_at,
        ended_at,
        cast(started_at as date) as session_date,
        {{ month_start('started_at') }} as session_month,
        event_count,
        {{ dbt.datediff('started_at', 'ended_at', 'millisecond') }}
        / 60000.0 as session_minutes

    from sessions

)

select * from final
