-- Invariant: at most 1 % of clickstream deliveries are redeliveries of an event_id already
-- delivered (at-least-once delivery is normal; a spike means a loader replaying batches).
-- Warns: staging deduplicates, so the marts stay right.
{{ config(severity='warn') }}

with

deliveries as (

    select event_id from {{ source('events', 'events') }}
    -- a daily run: the deliveries loaded since the last run (macro daily_window)
    where {{ daily_window() }}

),

rates as (

    select
        count(*) as deliveries,
        count(distinct event_id) as distinct_events,
        count(*) - count(distinct event_id) as redeliveries

    from deliveries

)

select
    deliveries,
    distinct_events,
    redeliveries,
    {{ safe_divide('redeliveries', 'deliveries') }} as redelivery_rate

from rates
where redeliveries > 0.01 * deliveries
