with

source as (

    select * from {{ source('app', 'experiment_assignments') }}

),

renamed as (

    select
        cast(experiment_id as {{ dbt.type_string() }}) as experiment_id,
        cast(user_id as {{ dbt.type_string() }}) as user_id,
        lower(trim(variant)) as variant,
        cast(assigned_at as {{ dbt.type_timestamp() }}) as assigned_at,
        cast(assigned_at as date) as assigned_date,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as _loaded_at

    from source

)

select * from renamed
