with

users as (

    select * from {{ ref('stg_app__users') }}

),

regions as (

    select * from {{ ref('country_regions') }}

),

final as (

    select
        users.user_id,
        users.signed_up_at,
        users.signed_up_date,
        users.country,
        users.acquisition_channel,
        users.is_test_account,
        users.is_deleted,
        users.deleted_at,
        coalesce(regions.region, 'Unknown') as region

    from users
    left join regions
        on users.country = regions.country_code

)

select * from final
