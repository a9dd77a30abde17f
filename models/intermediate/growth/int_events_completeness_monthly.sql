-- One row per month of receipt: deduplicated events delivered that month,
-- how many of them carry every column the growth and engagement metrics
-- depend on, and the share: the completeness figure beside the investor
-- growth and engagement metrics.
with

events as (

    select * from {{ ref('stg_events__events') }}

),

users as (

    select * from {{ ref('stg_app__users') }}

),

checked as (

    select
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
        {{ safe_divide('sum(is_complete)', 'count(*)') }} as input_completeness_rate

    from checked
    group by 1

)

select * from final
