{#- An 8-byte floating-point type. dbt.type_float() is a 4-byte FLOAT on
    DuckDB, too narrow for rates; the marts contract promises DOUBLE. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double
{%- endmacro %}

{% macro bigquery__type_double() -%}
    float64
{%- endmacro %}
