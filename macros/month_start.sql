{#- First day of the calendar month of a date or timestamp, as a DATE. -#}
{% macro month_start(expr) -%}
    cast({{ dbt.date_trunc('month', expr) }} as date)
{%- endmacro %}
