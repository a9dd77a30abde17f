{#- Two CTEs, `digits` and `offsets`: offsets holds the integers 0 to
    10^n_digits - 1 in column `offset_column`, built from cross-joined
    digits, so date spines need no dialect-specific generate_series. Emits
    the CTEs without a trailing comma. -#}
{% macro integer_offsets(n_digits, offset_column) %}
digits as (

    {% for digit in range(10) -%}
    select {{ digit }} as digit{% if not loop.last %} union all {% endif %}
    {% endfor %}

),

offsets as (

    select
        {% for position in range(n_digits) -%}
        d{{ position }}.digit * {{ 10 ** position }}{% if not loop.last %} + {% endif %}
        {%- endfor %} as {{ offset_column }}

    from digits as d0
    {%- for position in range(1, n_digits) %}
    cross join digits as d{{ position }}
    {%- endfor %}

)
{% endmacro %}
