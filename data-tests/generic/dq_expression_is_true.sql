{#-
    dq_expression_is_true: a boolean SQL expression holds on every row, or on
    every group when `group_by` is given.

    Arguments
      expression       boolean SQL expression; row-level without `group_by`,
                       an aggregate expression with it (`sum(refund_usd) <= 0`)
      group_by         optional list of column names; the expression is then
                       evaluated once per group
      row_condition    optional SQL filter applied first
      null_is_failure  true (default): an expression that evaluates to NULL
                       fails; false: NULL is ignored (only false fails)
      column_name      ignored; lets the test sit under a column in YAML

    Returns one row per failing row (all model columns) or failing group (the
    group keys), with `actual` = the expression's value (false or NULL).
    Mirrors dbt_expectations.expect_expression_to_be_true, except that NULL
    fails by default instead of passing silently.
-#}
{% test dq_expression_is_true(model, expression, group_by=none, row_condition=none, null_is_failure=true, column_name=none) %}

with

evaluated as (

    select
        {% if group_by %}{{ group_by | join(', ') }}{% else %}*{% endif %},
        ({{ expression }}) as actual

    from {{ model }}
    where {{ row_condition if row_condition else 'true' }}
    {%- if group_by %}
    group by {{ group_by | join(', ') }}
    {%- endif %}

)

select *
from evaluated
where
    {%- if null_is_failure %}
    not coalesce(actual, false)
    {%- else %}
    not actual
    {%- endif %}

{% endtest %}
