-- Invariant: every month's net revenue, COGS, refunds, shipping and payment fees in the audited
-- monthly profit equal the general ledger's postings for that month and account, within the
-- stated tolerance (more than 1 USD and more than 0.1 % of the ledger figure fails); a month or
-- account present on one side only fails.
-- Each failing row names the month, the line item, both figures and the difference.
with

audited as (

    select * from {{ ref('int_profit_monthly_audited') }}

),

ledger as (

    select * from {{ ref('stg_finance__ledger_entries') }}

),

accounts as (

    select * from {{ ref('ledger_accounts') }}

),

mart_lines as (

    select
        month,
        'net_revenue' as account,
        net_revenue_usd as mart_usd
    from audited

    union all

    select
        month,
        'cogs' as account,
        cogs_usd as mart_usd
    from audited

    union all

    select
        month,
        'refunds' as account,
        refunds_usd as mart_usd
    from audited

    union all

    select
        month,
        'shipping_expense' as account,
        shipping_usd as mart_usd
    from audited

    union all

    select
        month,
        'payment_fees' as account,
        payment_fees_usd as mart_usd
    from audited

),

ledger_lines as (

    select
        ledger.posted_month as month,
        ledger.account,
        sum(ledger.amount_usd) as ledger_usd

    from ledger
    inner join accounts
        on ledger.account = accounts.account
    group by ledger.posted_month, ledger.account

),

compared as (

    select
        mart_lines.mart_usd,
        ledger_lines.ledger_usd,
        coalesce(mart_lines.month, ledger_lines.month) as month,
        coalesce(mart_lines.account, ledger_lines.account) as line_item,
        coalesce(mart_lines.mart_usd, 0) - coalesce(ledger_lines.ledger_usd, 0) as difference_usd

    from mart_lines
    full outer join ledger_lines
        on
            mart_lines.month = ledger_lines.month
            and mart_lines.account = ledger_lines.account

)

select
    month,
    line_item,
    mart_usd,
    ledger_usd,
    difference_usd,
    {{ safe_divide('difference_usd', 'ledger_usd') }} as relative_difference

from compared
where
    (ledger_usd is null and mart_usd <> 0)
    or (mart_usd is null and ledger_usd <> 0)
    or (
        abs(difference_usd) > {{ var('ledger_abs_tolerance_usd') }}
        and abs(difference_usd) > {{ var('ledger_rel_tolerance') }} * abs(coalesce(ledger_usd, 0))
    )
