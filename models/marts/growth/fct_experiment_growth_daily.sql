with

assignments as (

    select * from {{ ref('stg_app__experiment_assignments') }}

),

users as (

    select * from {{ ref('stg_app__users') }}

),

user_days as (

    select * from {{ ref('int_events_aggregated_to_user_days') }}

),

days as (

    select * from {{ ref('int_activity_days_spined') }}

),

experiments as (

    select * from {{ ref('experiments') }}

),

assigned_users as (

    select
        assignments.experiment_id,
        assignments.variant,
        assignments.user_id,
        assignments.assigned_date,
        users.signed_up_date

    from assignments
    inner join users
        on assignments.user_id = users.user_id
    where not users.is_test_account

),

experiment_starts as (

    select
        experiment_id,
        min(assigned_date) as first_assigned_date

    from assigned_users
    group by experiment_id

),

experiment_variants as (

    select distinct
        experiment_id,
        variant

    from assigned_users

),

experiment_days as (

    select
        experiment_variants.experiment_id,
        experiment_variants.variant,
        days.activity_date

    from experiment_variants
    inner join experiment_starts
        on experiment_variants.experiment_id = experiment_starts.experiment_id
    inner join days
        on experiment_starts.first_assigned_date <= days.activity_date

),

daily_assigned as (

    select
        experiment_id,
        variant,
        assigned_date,
        count(*) as newly_assigned_users

    from assigned_users
    group by experiment_id, variant, assigned_date

),

daily_active as (

    select
        assigned_users.experiment_id,
        assigned_users.variant,
        user_days.activity_date,
        count(*) as active_users

    from assigned_users
    inner join user_days
        on
            assigned_users.user_id = user_days.user_id
            and assigned_users.assigned_date <= user_days.activity_date
    group by assigned_users.experiment_id, assigned_users.variant, user_days.activity_date

),

daily_new as (

    select
        experiment_id,
        variant,
        signed_up_date,
        count(*) as new_users

    from assigned_users
    where signed_up_date >= assigned_date
    group by experiment_id, variant, signed_up_date

),

final as (

    select
        experiment_days.activity_date,
        experiment_days.experiment_id,
        experiment_days.variant,
        experiments.experiment_name,
        cast(sum(coalesce(daily_assigned.newly_assigned_users, 0)) over (
            partition by experiment_days.experiment_id, experiment_days.variant
            order by experiment_days.activity_date
            rows between unbounded preceding and current row
        ) as bigint) as assigned_users,
        cast(coalesce(daily_active.active_users, 0) as bigint) as active_users,
        cast(coalesce(daily_new.new_users, 0) as bigint) as new_users

    from experiment_days
    left join daily_assigned
        on
            experiment_days.experiment_id = daily_assigned.experiment_id
            and experiment_days.variant = daily_assigned.variant
            and experiment_days.activity_date = daily_assigned.assigned_date
    left join daily_active
        on
            experiment_days.experiment_id = daily_active.experiment_id
            and experiment_days.variant = daily_active.variant
            and experiment_days.activity_date = daily_active.activity_date
    left join daily_new
        on
            experiment_days.experiment_id = daily_new.experiment_id
            and experiment_days.variant = daily_new.variant
            and experiment_days.activity_date = daily_new.signed_up_date
    left join experiments
        on experiment_days.experiment_id = experiments.experiment_id

)

select
    activity_date,
    experiment_id,
    variant,
    experiment_name,
    assigned_users,
    active_users,
    new_users

from final
