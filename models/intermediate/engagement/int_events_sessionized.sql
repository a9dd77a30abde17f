-- One row per session of a non-test user: its deduplicated events (those
-- carrying a user_id), from the first to the last event. A session belongs
-- to the day and month of its first event, also when it crosses midnight.
--
-- Incremental: a run recomputes only the sessions that received an event
-- within `events_lookback_days` of the latest received_at this table has
-- seen, from all their events; the events are read between the earliest and
-- latest time those sessions can span (their stored start and end and the
-- new events), so the scan stays small. A change of a user's
-- is_test_account needs a --full-refresh.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='session_id',
        on_schema_change='fail',
    )
}}

{%- set since = events_reprocess_since('last_received_at') -%}
{%- set span = none -%}
{%- if since -%}
    {%- set span_query -%}
        with changed as (
            select session_id, occurred_at from {{ ref('stg_events__events') }}
            where received_at >= {{ since }} or received_at is null
        ),
        stored as (
            select started_at, ended_at from {{ this }}
            where session_id in (select session_id from changed)
        )
        select
            cast(least(
                (select min(occurred_at) from changed), (select min(started_at) from stored)
            ) as {{ dbt.type_string() }}),
            cast(greatest(
                (select max(occurred_at) from changed), (select max(ended_at) from stored)
            ) as {{ dbt.type_string() }})
    {%- endset -%}
    {%- set span_row = run_query(span_query).rows[0] -%}
    {%- set span = {'since': since, 'lo': span_row[0], 'hi': span_row[1]} -%}
{%- endif %}

with

events as (

    select * from {{ ref('stg_events__events') }}
    {%- if span %}
        where
        {%- if span.lo %}
            occurred_at between cast('{{ span.lo }}' as timestamp) and cast('{{ span.hi }}' as timestamp)
        {%- else %}
            false
        {%- endif %}
            or occurred_at is null
    {%- endif %}

),

users as (

    select * from {{ ref('stg_app__users') }}

),

{%- if span %}

-- the sessions that received events since the last run (lookback included)
changed_sessions as (

    select distinct session_id

    from events
    where received_at >= {{ span.since }} or received_at is null

),

{%- endif %}

user_events as (

    select
        events.session_id,
        events.user_id,
        events.occurred_at,
        events.platform,
        events.received_at

    from events
    inner join users
        on events.user_id = users.user_id
    {%- if span %}
    inner join changed_sessions
        on events.session_id = changed_sessions.session_id
    {%- endif %}
    where {{ is_real_user_activity('events', 'users') }}

),

sessions as (

    select
        session_id,
        min(user_id) as user_id,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at,
        count(*) as event_count,
        -- a session runs on one client; min() keeps one if its events disagree
        min(platform) as platform,
        max(received_at) as last_received_at

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
        platform,
        {{ milliseconds_between('started_at', 'ended_at') }}
        / cast(60000 as {{ type_double() }}) as session_minutes,
        last_received_at

    from sessions

)

select * from final
