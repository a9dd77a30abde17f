{#- Whole milliseconds from start_ts to end_ts, parenthesised so that it can
    be divided. dbt.datediff(..., 'millisecond') expands on Spark to a sum of
    several terms (an unparenthesised division by 60000 once made session
    minutes 60,000 times too large) and goes through whole seconds: Spark
    subtracts unix_millis instead. -#}
{% macro milliseconds_between(start_ts, end_ts) -%}
    {{ return(adapter.dispatch('milliseconds_between')(start_ts, end_ts)) }}
{%- endmacro %}

{% macro default__milliseconds_between(start_ts, end_ts) -%}
    ({{ dbt.datediff(start_ts, end_ts, 'millisecond') }})
{%- endmacro %}

{% macro spark__milliseconds_between(start_ts, end_ts) -%}
    (unix_millis({{ end_ts }}) - unix_millis({{ start_ts }}))
{%- endmacro %}
