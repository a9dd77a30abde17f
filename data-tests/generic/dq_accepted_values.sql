{#-
    dq_accepted_values: every value of `column_name` is in an accepted list.

    Arguments
      column_name      the column to check
      values           list of accepted values
      quote            true (default): values are quoted as strings; false:
                       inserted as SQL (numbers, booleans)
      null_is_failure  true (default): NULL is not an accepted value; false:
                       NULL rows are ignored (dbt's native accepted_values)
      row_condition    optional SQL filter applied first

    Returns one row per unexpected value: `actual` (the value, NULL
    included) and `n_rows`. Unlike dbt's accepted_values and
    dbt_expectations.expect_column_values_to_be_in_set, NULL fails unless
    the test says otherwise.
-#}
{% test dq_accepted_values(model, column_name, values, quote=true, null_is_failure=true, row_condition=none) %}

with

filtered as (

    select {{ column_name }} as actual
    from {{ model }}
    where {{ row_condition if row_condition else 'true' }}

)

select
    actual,
    count(*) as n_rows

from filtered
where
    {%- if values | length > 0 %}
    actual not in (
        {%- for value in values -%}
        {%- if quote %}'{{ value }}'{% else %}{{ value }}{% endif %}{% if not loop.last %}, {% endif %}
        {%- endfor -%}
    )
    {%- else %}
    actual is not null
    {%- endif %}
    {%- if null_is_failure %}
    or actual is null
    {%- endif %}
group by actual

{% endtest %}
