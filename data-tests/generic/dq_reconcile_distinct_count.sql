{#-
    dq_reconcile_distinct_count: count(distinct column) in the model equals
    the compare model's, overall or per group (e.g. DAU per day against the
    canonical daily activity model), within tolerance.

    Arguments
      column_name            column counted distinct on the model
      compare_model          ref()/source() to reconcile against
      compare_column_name    column counted distinct on compare_model
                             (default: column_name)
      group_by               optional list of column names on the model
      compare_group_by       matching columns on compare_model (default: group_by)
      row_condition          optional SQL filter on the model
      compare_row_condition  optional SQL filter on compare_model
      abs_tolerance          see dq_reconcile_aggregate (default 0: exact)
      rel_tolerance          see dq_reconcile_aggregate (relative to compare)
      missing_group          'fail' (default), 'warn', 'ignore' or 'zero'
      warn_abs_tolerance, warn_rel_tolerance  optional warn tier

    Distinct counts are computed per group on each side, never summed. A
    thin wrapper over dq_reconcile_aggregate; same output columns and tier
    pattern. dbt_expectations' distinct-count comparison has no group_by.
-#}
{% test dq_reconcile_distinct_count(model, column_name, compare_model, compare_column_name=none, group_by=none, compare_group_by=none, row_condition=none, compare_row_condition=none, abs_tolerance=0, rel_tolerance=none, missing_group='fail', warn_abs_tolerance=none, warn_rel_tolerance=none) %}

{{ test_dq_reconcile_aggregate(
    model=model,
    expression='count(distinct ' ~ column_name ~ ')',
    compare_model=compare_model,
    compare_expression='count(distinct ' ~ (compare_column_name or column_name) ~ ')',
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
