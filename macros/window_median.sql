{#- Median and median absolute deviation of expr over a window (`window` is
    the whole `over (...)` clause). DuckDB has both as window aggregates
    (median, mad); Spark has no mad(), so there both come from the window's
    values collected and sorted. Both interpolate: an even count gives the
    mean of the two middle values. -#}
{% macro median_over(expr, window) -%}
    {{ return(adapter.dispatch('median_over')(expr, window)) }}
{%- endmacro %}

{% macro mad_over(expr, window) -%}
    {{ return(adapter.dispatch('mad_over')(expr, window)) }}
{%- endmacro %}

{% macro default__median_over(expr, window) -%}
    (median({{ expr }}) {{ window }})
{%- endmacro %}

{% macro default__mad_over(expr, window) -%}
    (mad({{ expr }}) {{ window }})
{%- endmacro %}

{#- Spark: the median of a sorted array without nulls (array_sort puts
    nulls last; collect_list drops them). -#}
{% macro spark__median_of_sorted_array(arr) -%}
    transform(array({{ arr }}), sorted_values -> case
        when size(sorted_values) = 0 then null
        else (
            element_at(sorted_values, cast(floor((size(sorted_values) + 1) / 2) as int))
            + element_at(sorted_values, cast(floor(size(sorted_values) / 2) + 1 as int))
        ) / 2
    end)[0]
{%- endmacro %}

{% macro spark__median_over(expr, window) -%}
    ({{ spark__median_of_sorted_array('array_sort(collect_list(' ~ expr ~ ') ' ~ window ~ ')') }})
{%- endmacro %}

{% macro spark__mad_over(expr, window) -%}
    (transform(array(collect_list({{ expr }}) {{ window }}), window_values ->
        {{ spark__median_of_sorted_array(
            'array_sort(transform(window_values, window_value -> abs(window_value - '
            ~ spark__median_of_sorted_array('array_sort(window_values)') ~ ')))'
        ) }}
    )[0])
{%- endmacro %}
