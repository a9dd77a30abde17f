{#-
    dq_reconcile_row_count: the model's row count equals `factor` times the
    compare model's, overall or per group, within tolerance.

    Arguments
      compare_model          ref()/source() to reconcile against
      group_by               optional list of column names on the model
      compare_group_by       matching columns on compare_model (default: group_by)
      factor                 expected = factor * compare count (default 1)
      row_condition          optional SQL filter on the model
      compare_row_condition  optional SQL filter on compare_model
      abs_tolerance          see dq_reconcile_aggregate (default 0: exact)
      rel_tolerance          see dq_reconcile_aggregate (relative to compare)
      missing_group          'fail' (default), 'warn', 'ignore' or 'zero'
      warn_abs_tolerance, warn_rel_tolerance  optional warn tier

    A thin wrapper over dq_reconcile_aggregate with count(*) on both sides;
    same output columns and tier pattern. Mirrors
    dbt_expectations.expect_table_row_count_to_equal_other_table, except a
    group missing on either side fails.
-#}
{% test dq_reconcile_row_count(model, compare_model, group_by=none, compare_group_by=none, factor=1, row_condition=none, compare_row_condition=none, abs_tolerance=0, rel_tolerance=none, missing_group='fail', warn_abs_tolerance=none, warn_rel_tolerance=none) %}

{{ test_dq_reconcile_aggregate(
    model=model,
    expression='count(*)',
    compare_model=compare_model,
    compare_expression='count(*) * ' ~ factor,
    group_by=group_by,
    compare_group_by=compare_group_by,
    row_condition=row_condition,
    compare_row_condition=compare_row_condition,
    abs_tolerance=abs_tolerance,
    rel_tolerance=rel_tolerance,
    relative_to='compare',
    missing_group=missing_group,
    warn_abs_tolerance=warn_abs_tolerance,
    warn_rel_tolerance=warn_rel_tolerance
) }}

{% endtest %}
