-- The canonical daily user activity: one row per non-test user and UTC day
-- with at least one deduplicated event. Every growth and engagement mart
-- derives its active users from this model (one activity definition, one
-- time zone, one exclusion list).
--
-- Incremental: a run recomputes whole UTC days, only those on which an event
-- was received within `events_lookback_days` of the latest received_at this
-- table has seen (late events land on their occurred day, however late).
-- A change of a user's is_test_account needs a --full-refresh.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='activity_date',
        on_schema_change='fail',
    )
}}

{%- set since = events_reprocess_since('last_received_at') -%}
{%- set first_changed_date = none -%}
{%- if since -%}
    {%- set changed_query -%}
        select cast(coalesce(min(occurred_date), cast('9999-12-31' as date)) as {{ dbt.type_string() }})
        from {{ ref('stg_events__events') }}
        where
            received_at >= {{ since }}
            or received_at is null
    {%- endset -%}
    {%- set first_changed_date = run_query(changed_query).columns[0].values()[0] -%}
{%- endif %}

with

events as (

    select * from {{ ref('stg_events__events') }}
    {%- if first_changed_date %}
        where occurred_date >= cast('{{ first_changed_date }}' as date)
    {%- endif %}

),

users as (

    select * from {{ ref('stg_app__users') }}

),

{%- if first_changed_date %}

-- the days that received events since the last run (lookback included)
changed_days as (

    select distinct occurred_date

    from events
    where
        received_at >= {{ since }}
        or received_at is null

),

{%- endif %}

user_events as (

    select
        events.user_id,
        events.occurred_date,
        events.occurred_at,
        events.session_id,
        events.received_at

    from events
    inner join users
        on events.user_id = users.user_id
    {%- if first_changed_date %}
    inner join changed_days
        on events.occurred_date = changed_days.occurred_date
    {%- endif %}
    where {{ is_real_user_activity('events', 'users') }}

),

aggregated as (

    select
        user_id,
        occurred_date as activity_date,
        {{ month_start('occurred_date') }} as activity_month,
        count(*) as event_count,
        count(distinct session_id) as session_count,
        min(occurred_at) as first_event_at,
        max(occurred_at) as last_event_at,
        max(received_at) as last_received_at

    from user_events
    group by user_id, occurred_date

)

select * from aggregated
