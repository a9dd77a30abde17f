with

source as (

    select * from {{ source('analytics', 'active_user_counts') }}

),

renamed as (

    select
        cast(activity_date as date) as activity_date,
        cast(active_users as bigint) as active_users,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as _loaded_at

    from source

)

select * from renamed
