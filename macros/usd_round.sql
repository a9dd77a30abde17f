{#- Round a USD amount to cents, half away from zero (DECIMAL rounding on
    DuckDB, Spark, Snowflake and BigQuery), via a wide decimal so doubles and
    narrow decimals round the same way. -#}
{% macro usd_round(amount) -%}
    round(cast({{ amount }} as decimal(38, 6)), 2)
{%- endmacro %}
