{#- The body of a metric-history model (fct_profit_metrics_daily,
    fct_activity_metrics_daily): each run recomputes the last `backfill_days`
    days (the calling model's config.meta) of every metric listed in its
    config.meta.metrics and replaces them (delete+insert), so late data and
    restatements reach the history while older days keep what earlier runs
    recorded. A day without rows is a 0 for counts and sums (NULL for rates),
    never an absent row.

    imports: {model name: CTE name} of the models the metrics read; a metric
    names its model in its `model` key. -#}
{% macro metric_history(imports) %}
{%- set meta = config.get('meta') or {} -%}
{%- set metrics = meta.get('metrics') or [] -%}
{%- set backfill_days = meta.get('backfill_days', 3) | int -%}
{#- metrics that share a model, date column and dimension are computed in one pass -#}
{%- set grains = {} -%}
{%- for metric in metrics -%}
    {%- if metric.model not in imports -%}
        {{ exceptions.raise_compiler_error(
            "metric_history: metric " ~ metric.name ~ " reads " ~ metric.model
            ~ ", which has no import CTE; add one to the model") }}
    {%- endif -%}
    {%- set grain = metric.model ~ '|' ~ metric.date_column ~ '|' ~ (metric.dimension or '') -%}
    {%- do grains.setdefault(grain, []).append(metric) -%}
{%- endfor %}

with
{% for model_name, cte_name in imports.items() %}
{#- read by several grains: inlined, so each reads only the recomputed days
    (materialised, it copied the whole event table first: 163 s at scale 10) #}
{{ cte_name }} as {{ cte_not_materialized() }} (

    select * from {{ ref(model_name) }}

),
{% endfor %}
calendar as (

    select * from {{ ref('int_calendar_days_spined') }}

),

{%- if is_incremental() %}

    history as (

        select * from {{ this }}

    ),
{%- endif %}

-- the days recomputed by this run: up to the day before "now"
bounds as (

    select
        {%- if is_incremental() %}
            coalesce(
                cast({{ dbt.dateadd('day', 1 - backfill_days, '(select max(metric_date) from history)') }} as date),
                cast('{{ var("calendar_start", "2015-01-01") }}' as date)
            ) as first_date,
        {%- else %}
            cast('{{ var("calendar_start", "2015-01-01") }}' as date) as first_date,
        {%- endif %}
        cast({{ dbt.dateadd('day', -1, 'cast(' ~ as_of_timestamp() ~ ' as date)') }} as date) as last_date

),
{%- for grain, grain_metrics in grains.items() %}
    {%- set first = grain_metrics[0] %}

    grain_{{ loop.index }} as (

        select
            cast(source_rows.{{ first.date_column }} as date) as metric_date,
            {%- if first.dimension %}
                coalesce(cast(source_rows.{{ first.dimension }} as {{ dbt.type_string() }}), '(null)')
                    as dimension_value,
            {%- else %}
                'all' as dimension_value,
            {%- endif %}
            {%- for metric in grain_metrics %}
                cast({{ metric.value }} as {{ type_double() }}) as {{ metric.name }}_value,
                cast({{ metric.denominator or 'null' }} as {{ type_double() }}) as {{ metric.name }}_denominator
                {%- if not loop.last %},{% endif %}
            {%- endfor %}

        from {{ imports[first.model] }} as source_rows
        inner join bounds
            on
                cast(source_rows.{{ first.date_column }} as date) >= bounds.first_date
                and cast(source_rows.{{ first.date_column }} as date) <= bounds.last_date
        group by 1, 2

    ),
{%- endfor %}

measured as (

    {%- for grain, grain_metrics in grains.items() %}
        {%- set grain_index = loop.index %}
        {%- for metric in grain_metrics %}
            select
                '{{ metric.name }}' as metric_name,
                '{{ metric.model }}' as source_model,
                '{{ metric.dimension or "none" }}' as dimension,
                dimension_value,
                metric_date,
                {{ metric.name }}_value as metric_value,
                {{ metric.name }}_denominator as denominator,
                {{ 'true' if metric.denominator else 'false' }} as is_rate
            from grain_{{ grain_index }}
            {%- if not loop.last %}
                union all
            {%- endif %}
        {%- endfor %}
    {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
    {%- if not metrics %}
    -- no metrics configured (or the project is being parsed)
    select
        'none' as metric_name,
        'none' as source_model,
        'none' as dimension,
        'all' as dimension_value,
        cast(null as date) as metric_date,
        cast(null as {{ type_double() }}) as metric_value,
        cast(null as {{ type_double() }}) as denominator,
        false as is_rate
    where false
    {%- endif %}

),

configured as (

    {%- for metric in metrics %}
        select '{{ metric.name }}' as metric_name
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
    {%- if not metrics %}
        select 'none' as metric_name
    {%- endif %}

),

-- every series (metric, dimension value) seen in this run's days or kept
-- in the history (of a metric still configured), from its first day
series as (

    select
        metric_name,
        source_model,
        dimension,
        dimension_value,
        bool_or(is_rate) as is_rate,
        min(metric_date) as first_date

    from measured
    group by 1, 2, 3, 4
    {%- if is_incremental() and metrics %}

        union all

        select distinct
            history.metric_name,
            history.source_model,
            history.dimension,
            history.dimension_value,
            history.denominator is not null as is_rate,
            bounds.first_date

        from history
        cross join bounds
    {%- endif %}

),

series_bounds as (

    select
        metric_name,
        source_model,
        dimension,
        dimension_value,
        bool_or(is_rate) as is_rate,
        min(first_date) as first_date

    from series
    where metric_name in (select configured.metric_name from configured)
    group by 1, 2, 3, 4

),

spined as (

    select
        series_bounds.metric_name,
        series_bounds.source_model,
        series_bounds.dimension,
        series_bounds.dimension_value,
        series_bounds.is_rate,
        calendar.date_day as metric_date

    from series_bounds
    cross join bounds
    inner join calendar
        on
            calendar.date_day >= greatest(series_bounds.first_date, bounds.first_date)
            and bounds.last_date >= calendar.date_day

),

final as (

    select
        spined.metric_name,
        spined.source_model,
        spined.metric_date,
        spined.dimension,
        spined.dimension_value,
        case
            when measured.metric_date is not null then measured.metric_value
            when not spined.is_rate then 0
        end as metric_value,
        case
            when measured.metric_date is not null then measured.denominator
            when spined.is_rate then 0
        end as denominator,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }}) as computed_at,
        '{{ invocation_id }}' as invocation_id

    from spined
    left join measured
        on
            spined.metric_name = measured.metric_name
            and spined.dimension = measured.dimension
            and spined.dimension_value = measured.dimension_value
            and spined.metric_date = measured.metric_date

)

select
    metric_name,
    source_model,
    metric_date,
    dimension,
    dimension_value,
    cast(metric_value as {{ type_double() }}) as metric_value,
    cast(denominator as {{ type_double() }}) as denominator,
    computed_at,
    invocation_id

from final
{% endmacro %}
