{#- The profit measures, defined once for every grain (order line, month,
    quarter): select expressions with their aliases, from the column
    expressions of the amounts (all USD, already rounded to cents).

      gross_profit_usd        = net revenue - COGS - refunds
      contribution_profit_usd = gross profit - shipping - payment fees
      gross_margin_rate       = gross profit / net revenue (null when no revenue)

    `with_margin=false` leaves out the margin (a line's margin is not reported). -#}
{% macro profit_measures(net_revenue, cogs, refunds, shipping, payment_fees, with_margin=true) -%}
    {%- set gross_profit = "(" ~ net_revenue ~ ") - (" ~ cogs ~ ") - (" ~ refunds ~ ")" -%}
    cast({{ gross_profit }} as decimal(18, 2)) as gross_profit_usd,
    cast(
        {{ gross_profit }} - ({{ shipping }}) - ({{ payment_fees }}) as decimal(18, 2)
    ) as contribution_profit_usd
    {%- if with_margin %},
    {{ safe_divide(gross_profit, net_revenue) }} as gross_margin_rate
    {%- endif %}
{%- endmacro %}

{#- Activity that counts as a real user's: not a test account, and not from a
    device clock set in the future (a 2099 default is not activity;
    stg_events__events_occurred_at_not_in_the_future warns about those). The
    one rule of every growth and engagement figure, for a join of the events
    (`events`) with the users (`users`). -#}
{% macro is_real_user_activity(events='events', users='users') -%}
    not {{ users }}.is_test_account
    and {{ events }}.occurred_at <= {{ dbt.dateadd('hour', 1, as_of_timestamp()) }}
{%- endmacro %}
