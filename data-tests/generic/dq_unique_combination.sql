{#-
    dq_unique_combination: the combination of `columns` is unique.

    Arguments
      columns        list of column names forming the key
      row_condition  optional SQL filter applied first
      ignore_if      'all_null' (default): rows whose key columns are all NULL
                     are ignored; 'never': they count like any other value

    Returns one row per duplicated key with `n_rows` (how many rows share it),
    so stored failures show which keys repeat. Mirrors
    dbt_expectations.expect_compound_columns_to_be_unique.
-#}
{% test dq_unique_combination(model, columns, row_condition=none, ignore_if='all_null') %}

with

filtered as (

    select {{ columns | join(', ') }}
    from {{ model }}
    where
        {{ row_condition if row_condition else 'true' }}
        {%- if ignore_if == 'all_null' %}
        and not ({% for column in columns %}{{ column }} is null{% if not loop.last %} and {% endif %}{% endfor %})
        {%- endif %}

)

select
    {{ columns | join(', ') }},
    count(*) as n_rows

from filtered
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
