{#- Calendar-quarter label of a date, e.g. 2025-Q3, as finance files it. -#}
{% macro fiscal_quarter(date_expr) -%}
    {{ dbt.concat([
        dbt.cast("extract(year from " ~ date_expr ~ ")", dbt.type_string()),
        "'-Q'",
        dbt.cast("extract(quarter from " ~ date_expr ~ ")", dbt.type_string())
    ]) }}
{%- endmacro %}
