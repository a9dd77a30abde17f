{#-
    dq_expected_values_present: each expected value appears at least once,
    in the whole model or in every group (contain-set semantics).

    Arguments
      column_name    the column to look in
      values         list of values that must appear
      quote          true (default): values are quoted as strings; false:
                     inserted as SQL
      row_condition  optional SQL filter applied first
      group_by       optional list of column names; every group found in the
                     (filtered) model must contain every value
      expected_groups optional relation (ref/source) or parenthesised query
                     holding the `group_by` columns: groups listed there but
                     absent from the model fail too

    Returns one row per missing (group, value): the group keys, `expected`
    (the missing value) and `actual` = 0 rows. Mirrors
    dbt_expectations.expect_column_distinct_values_to_contain_set, per group.
-#}
{% test dq_expected_values_present(model, column_name, values, quote=true, row_condition=none, group_by=none, expected_groups=none) %}

{%- set keys = group_by or [] -%}

with

filtered as (

    select
        {% for column in keys %}{{ column }}, {% endfor %}
        {{ column_name }} as observed_value

    from {{ model }}
    where {{ row_condition if row_condition else 'true' }}

),

expected_values as (

    {% for value in values -%}
    select {% if quote %}'{{ value }}'{% else %}{{ value }}{% endif %} as expected
    {% if not loop.last %}union all
    {% endif %}
    {%- endfor %}

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

observed as (

    select distinct
        {% for column in keys %}{{ column }}, {% endfor %}
        observed_value

    from filtered

)

select
    {% for column in keys %}groups.{{ column }}, {% endfor %}
    expected_values.expected,
    0 as actual

from groups
cross join expected_values
left join observed
    on
        observed.observed_value = expected_values.expected
        {%- for column in keys %}
        and observed.{{ column }} is not distinct from groups.{{ column }}
        {%- endfor %}
where observed.observed_value is null

{% endtest %}
