{#- A 64-bit hash of a value, to pre-group large keys cheaply (collisions are
    possible: use it to narrow candidates, never as an identity). -#}
{% macro fingerprint(expr) -%}
    {{ return(adapter.dispatch('fingerprint')(expr)) }}
{%- endmacro %}

{% macro default__fingerprint(expr) -%}
    hash({{ expr }})
{%- endmacro %}

{% macro bigquery__fingerprint(expr) -%}
    farm_fingerprint(cast({{ expr }} as string))
{%- endmacro %}

{#- Keeps a CTE that is read more than once from being materialised (DuckDB
    materialises such CTEs; over the whole clickstream that is a spill of
    every column). Other warehouses inline CTEs themselves: nothing. -#}
{% macro cte_not_materialized() -%}
    {{ return(adapter.dispatch('cte_not_materialized')()) }}
{%- endmacro %}

{% macro default__cte_not_materialized() -%}
{%- endmacro %}

{% macro duckdb__cte_not_materialized() -%}
    not materialized
{%- endmacro %}

{#- Spark's hash() is 32-bit (Murmur3): too many collisions over the
    clickstream; xxhash64 is its 64-bit hash. -#}
{% macro spark__fingerprint(expr) -%}
    xxhash64({{ expr }})
{%- endmacro %}
