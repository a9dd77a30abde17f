{#- The key of an experiment variant, "<experiment_id>:<variant>": the
    semantic layer's experiment_variant entity (docs/semantic-layer.md). -#}
{% macro experiment_variant_id(experiment_id, variant) -%}
    {{ dbt.concat([experiment_id, "':'", variant]) }}
{%- endmacro %}
