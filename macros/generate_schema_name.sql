{#- Schemas are named by layer/domain alone (staging, profit, ...), not
    prefixed with the target schema, so analysts query profit.fct_... -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
