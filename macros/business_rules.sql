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

{#- Whether a reporting period is closed as of `as_of`, as select expressions
    with their aliases: days_in_period, days_with_data and is_closed. A period
    is closed when the data covers every one of its days (the first, partial
    month of data is not) and its last day plus the late-data window
    (var late_data_days) has passed. Investor figures are final, and growth
    rates are computed, only for closed periods.

      period_start    SQL date of the period's first day
      grain           'month' or 'quarter'
      days_with_data  SQL expression: days of the period inside the data's span -#}
{% macro period_status(period_start, grain, days_with_data) -%}
    {%- set period_end = dbt.dateadd(grain, 1, period_start) -%}
    {%- set days_in_period = dbt.datediff(period_start, period_end, 'day') -%}
    cast({{ days_in_period }} as integer) as days_in_period,
    cast({{ days_with_data }} as integer) as days_with_data,
    (
        cast({{ days_with_data }} as integer) = cast({{ days_in_period }} as integer)
        and cast({{ dbt.dateadd('day', var('late_data_days'), period_end) }} as {{ dbt.type_timestamp() }})
        <= {{ as_of_timestamp() }}
    ) as is_closed
{%- endmacro %}
