{#-
    dq_every_period_present: every period of a window ending just before
    "now" has data, overall or per group. A missing *latest* period fails.

    Arguments
      date_column          date/timestamp column bucketed with dbt.date_trunc;
                           defaults to the column the test is placed on
      period               'day' (default), 'week', 'month', ... (dbt datepart)
      lookback             number of periods checked (default 35)
      end_offset           the window ends `end_offset` periods before the
                           period of "now" (default 1: yesterday)
      group_by             optional list of column names; every group ever
                           seen in the (filtered) model must have every period
      expected_groups      optional relation (ref/source) or parenthesised
                           query holding the `group_by` columns; these groups
                           must have every period even if absent from the model
      min_rows_per_period  a period with fewer rows fails (default 1)
      exclusion_condition  optional SQL condition on `period_start` naming
                           periods not to check (holidays, weekends for FX)
      row_condition        optional SQL filter applied first

    "Now" is as_of_timestamp() (var `as_of`, else the run start, UTC). The
    spine is built in portable SQL (digits cross-joined, dbt.dateadd), so it
    is dynamic and needs no date table. Returns one row per missing/thin
    (group, period): the group keys, `period_start`, `actual` (rows) and
    `expected` (min_rows_per_period). Replaces
    dbt_expectations.expect_row_values_to_have_data_for_every_n_datepart,
    whose window ends at the model's own max date.
-#}
{% test dq_every_period_present(model, date_column=none, period='day', lookback=35, end_offset=1, group_by=none, min_rows_per_period=1, exclusion_condition=none, expected_groups=none, row_condition=none, column_name=none) %}

{%- set date_column = date_column or column_name -%}
{%- if date_column is none -%}
    {{ exceptions.raise_compiler_error("dq_every_period_present: date_column (or a column-level placement) is required") }}
{%- endif -%}

{%- if lookback < 1 -%}
    {{ exceptions.raise_compiler_error("dq_every_period_present: lookback must be >= 1") }}
{%- endif -%}
{%- set keys = group_by or [] -%}
{%- set n_digits = (lookback - 1) | string | length -%}
{%- set end_period = dbt.dateadd(period, -1 * end_offset, dbt.date_trunc(period, as_of_timestamp())) -%}

with

{{ integer_offsets(n_digits, 'period_offset') }},

spine as (

    select
        cast({{ dbt.dateadd(period, '-1 * period_offset', end_period) }} as {{ dbt.type_timestamp() }})
            as period_start

    from offsets
    where period_offset < {{ lookback }}

),

periods as (

    select period_start
    from spine
    {%- if exclusion_condition %}
    where not ({{ exclusion_condition }})
    {%- endif %}

),

filtered as (

    select
        {% for column in keys %}{{ column }}, {% endfor %}
        cast({{ dbt.date_trunc(period, date_column) }} as {{ dbt.type_timestamp() }}) as period_start

    from {{ model }}
    where {{ row_condition if row_condition else 'true' }}

),

groups as (

    {%- if keys %}
    select distinct {{ keys | join(', ') }} from filtered
    {%- if expected_groups %}
    union
    select distinct {{ keys | join(', ') }} from {{ expected_groups }} as expected_groups
    {%- endif %}
    {%- else %}
    select 1 as whole_model
    {%- endif %}

),

counts as (

    select
        {% for column in keys %}{{ column }}, {% endfor %}
        period_start,
        count(*) as n_rows

    from filtered
    group by {% for column in keys %}{{ column }}, {% endfor %}period_start

)

select
    {% for column in keys %}groups.{{ column }}, {% endfor %}
    periods.period_start,
    coalesce(counts.n_rows, 0) as actual,
    {{ min_rows_per_period }} as expected

from groups
cross join periods
left join counts
    on
        counts.period_start = periods.period_start
        {%- for column in keys %}
        and counts.{{ column }} is not distinct from groups.{{ column }}
        {%- endfor %}
where coalesce(counts.n_rows, 0) < {{ min_rows_per_period }}

{% endtest %}
