-- Every engine-specific (dispatched) macro on literal rows, on whichever
-- engine runs the build (DuckDB and Spark: docs/spark.md): one row per
-- check whose result is not the expected one.

with

moments as {{ cte_not_materialized() }} (

    select
        cast('2024-01-01 23:59:59.250' as {{ dbt.type_timestamp() }}) as started_at,
        cast('2024-01-02 00:01:30.125' as {{ dbt.type_timestamp() }}) as ended_at

),

odd_series as (

    select 1 as position, cast(1 as {{ type_double() }}) as metric_value
    union all select 2, cast(2 as {{ type_double() }})
    union all select 3, cast(3 as {{ type_double() }})
    union all select 4, cast(4 as {{ type_double() }})
    union all select 5, cast(100 as {{ type_double() }})

),

even_series as (

    select 1 as position, cast(1 as {{ type_double() }}) as metric_value
    union all select 2, cast(2 as {{ type_double() }})
    union all select 3, cast(3 as {{ type_double() }})
    union all select 4, cast(10 as {{ type_double() }})

),

{%- set whole = 'over (order by position rows between unbounded preceding and unbounded following)' %}
{%- set before = 'over (order by position rows between 3 preceding and 1 preceding)' %}

windowed as (

    select
        'median_over, mad_over (odd count)' as check_name,
        {{ median_over('metric_value', whole) }} as median_value,
        {{ mad_over('metric_value', whole) }} as mad_value,
        cast(3 as {{ type_double() }}) as expected_median,
        cast(1 as {{ type_double() }}) as expected_mad
    from odd_series

    union all

    select
        'median_over, mad_over (even count)',
        {{ median_over('metric_value', whole) }},
        {{ mad_over('metric_value', whole) }},
        cast(2.5 as {{ type_double() }}),
        cast(1 as {{ type_double() }})
    from even_series

),

robust as (

    select
        check_name,
        min(case when median_value = expected_median then 1 else 0 end) = 1 as median_is_expected,
        min(case when mad_value = expected_mad then 1 else 0 end) = 1 as mad_is_expected
    from windowed
    group by check_name

),

-- an empty frame (the first row has no row before it) gives null on both
empty_frames as (

    select
        count(*) as empty_frame_rows,
        count(median_value) as median_values,
        count(mad_value) as mad_values
    from (
        select
            {{ median_over('metric_value', before) }} as median_value,
            {{ mad_over('metric_value', before) }} as mad_value
        from odd_series
        where position = 1
    ) as first_only

),

checks as (

    select
        'milliseconds_between' as check_name,
        {{ milliseconds_between('started_at', 'ended_at') }} = 90875 as is_expected
    from moments

    union all

    -- divided, as session minutes are: the expansion must be one term
    select
        'milliseconds_between / 60000',
        abs(
            {{ milliseconds_between('started_at', 'ended_at') }} / cast(60000 as {{ type_double() }})
            - cast(1.5145833333333 as {{ type_double() }})
        ) < 1e-9
    from moments

    union all

    select
        'milliseconds_between (negative)',
        {{ milliseconds_between('ended_at', 'started_at') }} = -90875
    from moments

    union all

    -- 2^24 + 1 survives an 8-byte float, not a 4-byte one
    select
        'type_double is 8 bytes',
        cast(cast(16777217 as {{ type_double() }}) as bigint) = 16777217

    union all

    select
        'fingerprint: equal values, equal fingerprints',
        {{ fingerprint("'evt_000001'") }} = {{ fingerprint("'evt_000001'") }}

    union all

    select
        'fingerprint: different values, different fingerprints',
        {{ fingerprint("'evt_000001'") }} != {{ fingerprint("'evt_000002'") }}

    union all

    select
        'fingerprint: 64-bit (not a 32-bit hash)',
        max(abs(cast({{ fingerprint("cast(position as " ~ dbt.type_string() ~ ")") }} as {{ type_double() }})))
        > cast(4294967296 as {{ type_double() }})
    from (
        select 1 as position union all select 2 union all select 3 union all select 4
        union all select 5 union all select 6 union all select 7 union all select 8
    ) as eight_values

    union all

    select
        check_name || ' median',
        median_is_expected
    from robust

    union all

    select
        check_name || ' mad',
        mad_is_expected
    from robust

    union all

    select
        'median_over, mad_over (empty frame is null)',
        empty_frame_rows = 1 and median_values = 0 and mad_values = 0
    from empty_frames

)

select check_name
from checks
where not coalesce(is_expected, false)
