-- One row per month of receipt: deduplicated events delivered that month,
-- how many of them carry every column the growth and engagement metrics
-- depend on, and the share: the completeness figure beside the investor
-- growth and engagement metrics.
--
-- Incremental: a run recomputes whole months of receipt, from the month of
-- the latest received_at already counted minus `events_lookback_days` (a
-- delivery is never received before that: see stg_events__events), reading
-- only those months' events; the rest of the table stays.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='received_month',
        on_schema_change='fail',
    )
}}

{%- set since = events_reprocess_since('last_received_at') %}

with

events as (

    select * from {{ ref('stg_events__events') }}
    {%- if since %}
        where received_at >= {{ month_start(since) }}
    {%- endif %}

),

users as (

    select * from {{ ref('stg_app__users') }}

),

checked as (

    select
        events.received_at,
        cast(events.received_at as date) as received_date,
        case
            when
                events.event_id is not null
                and events.session_id is not null
                and events.occurred_at is not null
                and events.event_name is not null
                and (events.user_id is null or users.user_id is not null)
                then 1
            else 0
        end as is_complete

    from events
    left join users
        on events.user_id = users.user_id

),

final as (

    select
        {{ month_start('received_date') }} as received_month,
        count(*) as delivered_events,
        sum(is_complete) as complete_events,
        {{ safe_divide('sum(is_complete)', 'count(*)') }} as input_completeness_rate,
        max(received_at) as last_received_at

    from checked
    group by 1

)

select * from final
