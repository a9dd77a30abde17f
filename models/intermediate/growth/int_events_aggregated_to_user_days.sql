-- The canonical daily user activity: one row per non-test user and UTC day
-- with at least one deduplicated event. Every growth and engagement mart
-- derives its active users from this model (one activity definition, one
-- time zone, one exclusion list).
with

events as (

    select * from {{ ref('stg_events__events') }}

),

users as (

    select * from {{ ref('stg_app__users') }}

),

user_events as (

    select
        events.user_id,
        events.occurred_date,
        events.occurred_at,
        events.session_id

    from events
    inner join users
        on events.user_id = users.user_id
    where not users.is_test_account

),

aggregated as (

    select
        user_id,
        occurred_date as activity_date,
        {{ month_start('occurred_date') }} as activity_month,
        count(*) as event_count,
        count(distinct session_id) as session_count,
        min(occurred_at) as first_event_at,
        max(occurred_at) as last_event_at

    from user_events
    group by user_id, occurred_date

)

select * from aggregated
