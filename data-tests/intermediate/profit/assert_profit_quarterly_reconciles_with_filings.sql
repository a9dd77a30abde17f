-- Invariant: for every filed quarter, net revenue, gross profit and contribution profit of the
-- audited quarterly profit match what finance filed, relative to the reported figure: warn
-- beyond 0.1 %, error beyond 0.5 %; a filed quarter missing or incomplete in the marts is an
-- error.
-- Each failing row names the quarter, the metric, both figures, the difference and its severity
-- level (1 warn, 2 error).
{{ config(
    fail_calc='coalesce(max(severity_level), 0)',
    warn_if='>=1',
    error_if='>=2',
) }}

with

audited as (

    select * from {{ ref('int_profit_quarterly_audited') }}

),

filings as (

    select * from {{ ref('stg_finance__filings') }}

),

mart_metrics as (

    select
        fiscal_quarter,
        months_in_data,
        'net_revenue' as metric,
        net_revenue_usd as mart_usd
    from audited

    union all

    select
        fiscal_quarter,
        months_in_data,
        'gross_profit' as metric,
        gross_profit_usd as mart_usd
    from audited

    union all

    select
        fiscal_quarter,
        months_in_data,
        'contribution_profit' as metric,
        contribution_profit_usd as mart_usd
    from audited

),

compared as (

    select
        filings.fiscal_quarter,
        filings.metric,
        filings.filed_on,
        mart_metrics.months_in_data,
        mart_metrics.mart_usd,
        filings.reported_usd,
        mart_metrics.mart_usd - filings.reported_usd as difference_usd,
        abs(mart_metrics.mart_usd - filings.reported_usd)
        / nullif(abs(filings.reported_usd), 0) as relative_difference

    from filings
    left join mart_metrics
        on
            filings.fiscal_quarter = mart_metrics.fiscal_quarter
            and filings.metric = mart_metrics.metric

),

graded as (

    select
        *,
        case
            when mart_usd is null or reported_usd is null or months_in_data < 3 then 2
            when relative_difference is null and difference_usd <> 0 then 2
            when relative_difference > {{ var('filings_error_rel_tolerance') }} then 2
            when relative_difference > {{ var('filings_warn_rel_tolerance') }} then 1
            else 0
        end as severity_level

    from compared

)

select * from graded
where severity_level > 0
