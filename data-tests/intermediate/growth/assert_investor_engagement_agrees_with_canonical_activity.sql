{{ config(meta={
    "gate": "partial",
    "gate_reason": "a mismatch means the engagement figures are wrong, never the growth figures",
}) }}
-- Invariant: every month of the audited investor engagement figures agrees with the
-- canonical daily activity model (MAU and average DAU). It reads only the engagement
-- figures and their own inputs, so a failure holds back fct_engagement_monthly alone.
{{ canonical_activity_mismatches(
    ref('int_engagement_monthly_audited'), 'fct_engagement_monthly', avg_dau=true
) }}
