{#- One line's USD share of an order-level amount in local currency:
    amount * rate * line net revenue / order net revenue, rounded to cents.
    An order whose net revenue is zero splits the amount evenly by line.
    The generator's ledger uses exactly this arithmetic, so marts and the
    ledger agree to the cent. -#}
{% macro allocate_usd(amount_local, usd_per_unit, line_net_local, order_net_local, order_line_count) -%}
    {{ usd_round(
        "cast(" ~ amount_local ~ " as " ~ type_double() ~ ")"
        ~ " * cast(" ~ usd_per_unit ~ " as " ~ type_double() ~ ")"
        ~ " * case when " ~ order_net_local ~ " = 0"
        ~ " then 1.0 / " ~ order_line_count
        ~ " else cast(" ~ line_net_local ~ " as " ~ type_double() ~ ")"
        ~ " / cast(" ~ order_net_local ~ " as " ~ type_double() ~ ") end"
    ) }}
{%- endmacro %}
