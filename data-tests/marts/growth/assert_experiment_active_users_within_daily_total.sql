{{ config(meta={
    "gate": "partial",
    "gate_reason": "it reads the experiment marts, which no investor mart is built from",
}) }}
-- Invariant: on every day, an experiment's active users (summed over its variants, each user
-- being in one variant) never exceed the day's total active users, and no variant has more
-- active users than assigned users.
with

experiment_days as (

    select * from {{ ref('fct_experiment_growth_daily') }}

),

days as (

    select * from {{ ref('int_activity_days_spined') }}

),

per_experiment as (

    select
        activity_date,
        experiment_id,
        sum(active_users) as experiment_active_users,
        max(case when active_users > assigned_users then 1 else 0 end) as has_variant_over_assigned

    from experiment_days
    group by activity_date, experiment_id

)

select
    per_experiment.activity_date,
    per_experiment.experiment_id,
    per_experiment.experiment_active_users,
    days.active_users as total_active_users,
    per_experiment.has_variant_over_assigned

from per_experiment
left join days
    on per_experiment.activity_date = days.activity_date
where
    days.activity_date is null
    or per_experiment.experiment_active_users > days.active_users
    or per_experiment.has_variant_over_assigned = 1
