-- Daily literal series for dq_metric_anomaly, 2024-04-01 .. 2024-06-14 (the
-- test project's as_of is 2024-06-15T06:00, so 06-14 is the latest day).
-- Base: 100 plus a repeating noise of -5..+5 (sd ~3.2). Each series changes
-- the base as its name says.
with

days as (

    select
        cast(day as date) as metric_date,
        datediff('day', date '2024-04-01', cast(day as date)) as day_index,
        dayname(cast(day as date)) as weekday

    from range(date '2024-04-01', date '2024-06-15', interval 1 day) as days (day)

),

base as (

    select
        metric_date,
        day_index,
        weekday,
        100 + (day_index * 7) % 11 - 5 as normal_value

    from days

),

series as (

    select
        'noise' as series,
        metric_date,
        cast(normal_value as double) as metric_value
    from base

    union all
    -- the last day doubles
    select
        'spike',
        metric_date,
        case when metric_date = date '2024-06-14' then 200 else normal_value end
    from base

    union all
    -- the last day +30 %: over 3 sigma, under a 50 % change
    select
        'medium_spike',
        metric_date,
        case when metric_date = date '2024-06-14' then 130 else normal_value end
    from base

    union all
    -- the last day loses 80 %
    select
        'drop',
        metric_date,
        case when metric_date = date '2024-06-14' then 20 else normal_value end
    from base

    union all
    -- the last three days 50 % higher and staying there
    select
        'level_shift',
        metric_date,
        case when metric_date >= date '2024-06-12' then 150 + (day_index * 7) % 11 - 5 else normal_value end
    from base

    union all
    -- only 6 days of history before a spike
    select
        'too_short',
        metric_date,
        case when metric_date = date '2024-06-14' then 200 else normal_value end
    from base
    where metric_date >= date '2024-06-08'

    union all
    -- nearly flat (99..101); the last day +8: many sigma, but under 10 % and 10 units
    select
        'small_change',
        metric_date,
        case when metric_date = date '2024-06-14' then 108 else 100 + day_index % 3 - 1 end
    from base

    union all
    -- constant 100; the last day 101 (a flat baseline: stddev 0)
    select
        'flat',
        metric_date,
        case when metric_date = date '2024-06-14' then 101 else 100 end
    from base

    union all
    -- Fridays are 200, other days 100; the last day (a Friday) is 200
    select
        'weekly',
        metric_date,
        case when weekday = 'Friday' then 2 * normal_value else normal_value end
    from base

    union all
    -- same, but the last Friday only reaches a weekday's level
    select
        'weekly_flat_friday',
        metric_date,
        case when weekday = 'Friday' and metric_date < date '2024-06-14' then 2 * normal_value else normal_value end
    from base

    union all
    -- two outliers (1000) in the training window, then the last day 160
    select
        'outliers_then_spike',
        metric_date,
        case
            when metric_date in (date '2024-05-25', date '2024-06-05') then 1000
            when metric_date = date '2024-06-14' then 160
            else normal_value
        end
    from base

    union all
    -- the last day is absent (a missing day)
    select
        'missing_last_day',
        metric_date,
        normal_value
    from base
    where metric_date < date '2024-06-14'

    union all
    -- the last day is NULL (not scored)
    select
        'null_last_day',
        metric_date,
        case when metric_date < date '2024-06-14' then normal_value end
    from base

)

select * from series
