{#-
    dq_coverage: every key combination used in the model exists in a
    reference model (an FX rate per currency and date, a cost per product
    and period), with an optional tolerated uncovered share.

    Arguments
      key_columns              list of key columns on the model; defaults to
                               [the column the test is placed on]
      reference_model          ref()/source() that should cover them
      reference_key_columns    matching columns on reference_model, same
                               order (default: key_columns)
      row_condition            optional SQL filter on the model
      reference_row_condition  optional SQL filter on reference_model
      max_missing_rate         error tier: uncovered share allowed (fraction
                               0-1, default 0: any uncovered row fails)
      warn_missing_rate        optional warn tier (below max_missing_rate;
                               0 = warn on any uncovered row)
      weight_expression        optional row-level SQL weight (`revenue_usd`):
                               the share is uncovered weight / total weight
                               instead of uncovered rows / rows. NULL weight
                               counts as 0; a zero total weight with uncovered
                               rows fails.

    A row with a NULL key is uncovered (a NULL never matches). Returns one
    row per uncovered key combination: the keys, `n_rows`, `uncovered_weight`,
    `actual` (the model-wide uncovered share), `expected` (the crossed cap)
    and `severity_level` (1 warn, 2 error); nothing when the share is within
    max_missing_rate and no warn tier is crossed. The tiers are configured by
    the test itself (fail_calc = the highest severity_level; warn_if >=1,
    error_if >=2), so a usage needs no config.
    A composite-key, weighted dbt `relationships`.
-#}
{% test dq_coverage(model, key_columns=none, reference_model=none, reference_key_columns=none, row_condition=none, reference_row_condition=none, max_missing_rate=0, warn_missing_rate=none, weight_expression=none, column_name=none) %}
{#- tiers: severity_level 1 warns, 2 fails; set here, so no usage can forget them -#}
{{ config(fail_calc="coalesce(max(severity_level), 0)", warn_if=">=1", error_if=">=2") }}

{%- set key_columns = key_columns or ([column_name] if column_name else none) -%}
{%- if not key_columns or reference_model is none -%}
    {{ exceptions.raise_compiler_error("dq_coverage: key_columns (or a column-level placement) and reference_model are required") }}
{%- endif -%}

{%- set reference_keys = reference_key_columns or key_columns -%}
{%- if reference_keys | length != key_columns | length -%}
    {{ exceptions.raise_compiler_error("dq_coverage: key_columns and reference_key_columns differ in length") }}
{%- endif -%}
{%- set weight = 'coalesce(' ~ weight_expression ~ ', 0)' if weight_expression else '1' -%}

with

model_rows as (

    select
        {% for column in key_columns %}{{ column }} as dq_key_{{ loop.index }}, {% endfor %}
        cast({{ weight }} as {{ type_double() }}) as dq_weight

    from {{ model }}
    where {{ row_condition if row_condition else 'true' }}

),

reference_keys as (

    select distinct
        {% for column in reference_keys %}{{ column }} as dq_key_{{ loop.index }}, {% endfor %}
        true as is_covered

    from {{ reference_model }}
    where {{ reference_row_condition if reference_row_condition else 'true' }}

),

checked as (

    select
        model_rows.*,
        reference_keys.is_covered is not null as is_covered

    from model_rows
    left join reference_keys
        on
            {% for column in key_columns -%}
            {% if not loop.first %}and {% endif %}reference_keys.dq_key_{{ loop.index }} = model_rows.dq_key_{{ loop.index }}
            {% endfor %}

),

totals as (

    select
        sum(dq_weight) as total_weight,
        sum(case when is_covered then 0 else dq_weight end) as uncovered_weight,
        sum(case when is_covered then 0 else 1 end) as uncovered_rows

    from checked

),

graded as (

    select
        *,
        {{ safe_divide('uncovered_weight', 'total_weight') }} as actual,
        case
            when uncovered_rows = 0 then 0
            when total_weight = 0 then 2
            when uncovered_weight / total_weight > {{ max_missing_rate }} then 2
            {%- if warn_missing_rate is not none %}
            when uncovered_weight / total_weight > {{ warn_missing_rate }} then 1
            when {{ warn_missing_rate }} = 0 then 1
            {%- endif %}
            else 0
        end as severity_level

    from totals

)

select
    {% for column in key_columns %}checked.dq_key_{{ loop.index }} as {{ column }}, {% endfor %}
    count(*) as n_rows,
    sum(checked.dq_weight) as uncovered_weight,
    graded.actual,
    case
        when graded.severity_level = 2 then {{ max_missing_rate }}
        else {{ warn_missing_rate if warn_missing_rate is not none else 'null' }}
    end as expected,
    graded.severity_level

from checked
cross join graded
where
    not checked.is_covered
    and graded.severity_level > 0
group by
    {% for column in key_columns %}checked.dq_key_{{ loop.index }}, {% endfor %}
    graded.actual,
    graded.severity_level

{% endtest %}
