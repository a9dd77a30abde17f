{#- numerator / denominator as a float; null when the denominator is 0 or null. -#}
{% macro safe_divide(numerator, denominator) -%}
    case
        when {{ denominator }} is null or {{ denominator }} = 0 then null
        else cast({{ numerator }} as {{ type_double() }}) / {{ denominator }}
    end
{%- endmacro %}
