{{ config(meta={
    "gate": "partial",
    "gate_reason": "a mismatch means the growth figures are wrong, never the engagement figures",
}) }}
-- Invariant: every month of the audited investor growth figures agrees with the canonical
-- daily activity model (MAU). It reads only the growth figures and their own input, so a
-- failure holds back fct_growth_monthly and nothing else.
{{ canonical_activity_mismatches(ref('int_growth_monthly_audited'), 'fct_growth_monthly') }}
