{#-
    dq_metric_anomaly: the latest closed days of a daily metric series are
    not anomalous compared with *earlier* days of the same series (what
    Elementary's anomaly tests do; docs/data-quality.md, "Anomalies in the metric history").

    Arguments
      value_column          the metric column; defaults to the column the test
                            is placed on
      date_column           date (or timestamp, cast to date) of each value
                            (default metric_date)
      group_by              optional list of columns naming a series (e.g.
                            [dimension, dimension_value]); each is scored alone
      row_condition         optional SQL filter applied first (e.g.
                            "metric_name = 'orders_row_count'")
      method                'zscore' (default): baseline = mean, spread =
                            stddev_samp; 'mad': baseline = median, spread =
                            1.4826 * MAD (robust to outliers in the training
                            window; DuckDB's median/mad window aggregates)
      seasonality           none (default) or 'day_of_week': each day is
                            compared only with the same weekday
      training_periods      training points before each scored day (default
                            28; with day_of_week: same-weekday points, e.g. 8)
      min_training_points   fewer non-NULL training points: not scored
                            (default 14; must be >= 2)
      detection_periods     how many of the latest closed days are scored
                            (default 2)
      detection_delay       days before "now" still open to late data and not
                            scored (default: var late_data_days, else 0)
      sensitivity           warn tier: |score| above it (default 3)
      min_abs_change        warn tier: |value - baseline| must also reach it
                            (default 0)
      min_rel_change        warn tier: |value - baseline| / |baseline| must
                            also reach it (default 0; fraction)
      anomaly_direction     'both' (default), 'spike' or 'drop'
      error_sensitivity     optional error tier (with error_min_abs_change,
                            error_min_rel_change; they default to the warn
                            tier's minimums): a wider band for metrics whose
                            anomaly must block publication
      fill_missing_with_zero  true (default): a day missing inside a series
                            (from its first day in the window) counts as 0,
                            so a missing day is a drop, not an absent row

    Scoring: per series (and weekday), ordered by day, the baseline and
    spread come from `rows between training_periods preceding and 1
    preceding`: the judged value is never part of its own baseline. score =
    (value - baseline) / spread. A flat baseline (spread 0) with a different
    value is anomalous when the change clears the minimums. A NULL value is
    not scored. "Now" is as_of_timestamp(); the detection window is the
    `detection_periods` days ending `detection_delay` + 1 days before the
    day of "now" (as_of 2024-10-01, delay 2, periods 3: 09-26..09-28).
    Only days are supported as periods.

    Returns one row per anomalous (series, day): the group keys,
    `metric_date`, `metric_value`, `baseline`, `spread`, `lower_bound` /
    `upper_bound` (warn band), `score`, `abs_change`, `rel_change`,
    `training_count`, `reason` ('spike'/'drop') and `severity_level`
    (1 warn, 2 error). The tiers are configured by the test itself (fail_calc =
    the highest severity_level; warn_if >=1, error_if >=2), so a usage needs
    no config; without error_sensitivity every anomaly is severity 1, so the
    test warns.
-#}
{% test dq_metric_anomaly(model, value_column=none, date_column='metric_date', group_by=none, row_condition=none, method='zscore', seasonality=none, training_periods=28, min_training_points=14, detection_periods=2, detection_delay=none, sensitivity=3, min_abs_change=0, min_rel_change=0, anomaly_direction='both', error_sensitivity=none, error_min_abs_change=none, error_min_rel_change=none, fill_missing_with_zero=true, column_name=none) %}
{#- tiers: severity_level 1 warns, 2 fails; set here, so no usage can forget them -#}
{{ config(fail_calc="coalesce(max(severity_level), 0)", warn_if=">=1", error_if=">=2") }}

{%- set value_column = value_column or column_name -%}
{%- if value_column is none -%}
    {{ exceptions.raise_compiler_error("dq_metric_anomaly: value_column (or a column-level placement) is required") }}
{%- endif -%}
{%- if method not in ['zscore', 'mad'] -%}
    {{ exceptions.raise_compiler_error("dq_metric_anomaly: method must be 'zscore' or 'mad', got " ~ method) }}
{%- endif -%}
{%- if seasonality not in [none, 'day_of_week'] -%}
    {{ exceptions.raise_compiler_error("dq_metric_anomaly: seasonality must be none or 'day_of_week', got " ~ seasonality) }}
{%- endif -%}
{%- if anomaly_direction not in ['both', 'spike', 'drop'] -%}
    {{ exceptions.raise_compiler_error("dq_metric_anomaly: anomaly_direction must be 'both', 'spike' or 'drop'") }}
{%- endif -%}
{%- set training_periods = training_periods | int -%}
{%- set detection_periods = detection_periods | int -%}
{%- set min_training_points = min_training_points | int -%}
{%- if min_training_points < 2 or training_periods < min_training_points or detection_periods < 1 -%}
    {{ exceptions.raise_compiler_error("dq_metric_anomaly: need detection_periods >= 1 and 2 <= min_training_points <= training_periods") }}
{%- endif -%}
{%- set detection_delay = (detection_delay if detection_delay is not none else var('late_data_days', 0)) | int -%}

{%- set keys = group_by or [] -%}
{%- set step = 7 if seasonality == 'day_of_week' else 1 -%}
{%- set lookback = detection_periods + training_periods * step -%}
{%- set n_digits = (lookback - 1) | string | length -%}
{%- set today = "cast(" ~ as_of_timestamp() ~ " as date)" -%}
{%- set detection_end = "cast(" ~ dbt.dateadd('day', -1 * detection_delay, today) ~ " as date)" -%}
{%- set detection_start = "cast(" ~ dbt.dateadd('day', -1 * (detection_delay + detection_periods), today) ~ " as date)" -%}
{%- set window_start = "cast(" ~ dbt.dateadd('day', -1 * (detection_delay + lookback), today) ~ " as date)" -%}

{#- weekday as days since a Monday, mod 7 (portable) -#}
{%- set weekday = "mod(" ~ dbt.datediff("cast('1970-01-05' as date)", 'metric_date', 'day') ~ ", 7)" -%}
{%- set partition_columns = keys + ([weekday] if seasonality == 'day_of_week' else []) -%}
{%- set partition -%}
    {% if partition_columns %}partition by {{ partition_columns | join(', ') }} {% endif %}
{%- endset -%}
{%- set training -%}
    over ({{ partition }}order by metric_date rows between {{ training_periods }} preceding and 1 preceding)
{%- endset -%}

{%- set error_min_abs_change = error_min_abs_change if error_min_abs_change is not none else min_abs_change -%}
{%- set error_min_rel_change = error_min_rel_change if error_min_rel_change is not none else min_rel_change -%}

{#- the tiers a day can reach, highest first: (severity_level, band, min_abs, min_rel) -#}
{%- set tiers = [] -%}
{%- if error_sensitivity is not none -%}
    {%- do tiers.append((2, error_sensitivity, error_min_abs_change, error_min_rel_change)) -%}
{%- endif -%}
{%- do tiers.append((1, sensitivity, min_abs_change, min_rel_change)) -%}

with

{{ integer_offsets(n_digits, 'day_offset') }},

{#- every day of training + detection window, newest = detection_end - 1 -#}
spine as (

    select cast({{ dbt.dateadd('day', '-1 - day_offset', detection_end) }} as date) as metric_date
    from offsets
    where day_offset < {{ lookback }}

),

observed as (

    select
        {% for column in keys %}{{ column }}, {% endfor %}
        cast({{ date_column }} as date) as metric_date,
        cast({{ value_column }} as {{ type_double() }}) as metric_value

    from {{ model }}
    where
        ({{ row_condition if row_condition else 'true' }})
        and cast({{ date_column }} as date) >= {{ window_start }}
        and cast({{ date_column }} as date) < {{ detection_end }}

),

{#- several rows of one series and day are summed -#}
daily as (

    select
        {% for column in keys %}{{ column }}, {% endfor %}
        metric_date,
        sum(metric_value) as metric_value

    from observed
    group by {% for column in keys %}{{ column }}, {% endfor %}metric_date

),

series as (

    select
        {% for column in keys %}{{ column }}, {% endfor %}
        min(metric_date) as first_date

    from daily
    {%- if keys %}
    group by {{ keys | join(', ') }}
    {%- endif %}

),

filled as (

    select
        {% for column in keys %}series.{{ column }}, {% endfor %}
        spine.metric_date,
        case
            when daily.metric_date is null then {{ '0' if fill_missing_with_zero else 'null' }}
            else daily.metric_value
        end as metric_value

    from series
    inner join spine
        on spine.metric_date >= series.first_date
    left join daily
        on
            daily.metric_date = spine.metric_date
            {%- for column in keys %}
            and daily.{{ column }} is not distinct from series.{{ column }}
            {%- endfor %}

),

trained as (

    select
        *,
        count(metric_value) {{ training }} as training_count,
        {%- if method == 'mad' %}
        {{ median_over('metric_value', training) }} as baseline,
        1.4826 * {{ mad_over('metric_value', training) }} as spread
        {%- else %}
        avg(metric_value) {{ training }} as baseline,
        stddev_samp(metric_value) {{ training }} as spread
        {%- endif %}

    from filled

),

scored as (

    select
        *,
        abs(metric_value - baseline) as abs_change,
        (metric_value - baseline) / nullif(abs(baseline), 0) as rel_change,
        (metric_value - baseline) / nullif(spread, 0) as score,
        baseline - {{ sensitivity }} * spread as lower_bound,
        baseline + {{ sensitivity }} * spread as upper_bound,
        case when metric_value > baseline then 'spike' when metric_value < baseline then 'drop' end as reason

    from trained
    where
        metric_date >= {{ detection_start }}
        and metric_value is not null
        and training_count >= {{ min_training_points }}
        {%- if anomaly_direction == 'spike' %}
        and metric_value > baseline
        {%- elif anomaly_direction == 'drop' %}
        and metric_value < baseline
        {%- endif %}

),

graded as (

    select
        *,
        case
            {%- for level, band, min_abs, min_rel in tiers %}
            when
                (abs(score) > {{ band }} or (coalesce(spread, 0) = 0 and abs_change > 0))
                and abs_change >= {{ min_abs }}
                and (rel_change is null or abs(rel_change) >= {{ min_rel }})
                then {{ level }}
            {%- endfor %}
            else 0
        end as severity_level

    from scored

)

select
    {% for column in keys %}{{ column }}, {% endfor %}
    metric_date,
    metric_value,
    baseline,
    spread,
    lower_bound,
    upper_bound,
    score,
    abs_change,
    rel_change,
    training_count,
    reason,
    severity_level

from graded
where severity_level > 0

{% endtest %}
