{#-
    dq_pair_greater_than: on every row, column A is greater than column B
    (DAU <= WAU <= MAU, active >= exposed, gross >= net).

    Arguments
      column_a         left side: a column or row-level SQL expression;
                       defaults to the column the test is placed on
      column_b         right side, same rules
      or_equal         false (default): A > B; true: A >= B
      row_condition    optional SQL filter applied first
      null_is_failure  true (default): a NULL on either side fails; false:
                       such rows are ignored

    Returns one row per failing row: all model columns plus `actual` (A)
    and `expected` (B); no difference column, so any comparable type works
    (numbers, dates, timestamps, strings). Mirrors
    dbt_expectations.expect_column_pair_values_A_to_be_greater_than_B.
-#}
{% test dq_pair_greater_than(model, column_a=none, column_b=none, or_equal=false, row_condition=none, null_is_failure=true, column_name=none) %}

{%- set column_a = column_a or column_name -%}
{%- if column_a is none or column_b is none -%}
    {{ exceptions.raise_compiler_error("dq_pair_greater_than: column_a (or a column-level placement) and column_b are required") }}
{%- endif -%}

with

compared as (

    select
        *,
        {{ column_a }} as actual,
        {{ column_b }} as expected,
        ({{ column_a }}) {{ '>=' if or_equal else '>' }} ({{ column_b }}) as is_valid

    from {{ model }}
    where {{ row_condition if row_condition else 'true' }}

)

select *
from compared
where not coalesce(is_valid, {{ 'false' if null_is_failure else 'true' }})

{% endtest %}
