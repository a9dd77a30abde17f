-- The experiment variants users are assigned to: the dimension of the
-- semantic layer's experiment_variant entity (docs/semantic-layer.md).
with

assignments as (

    select * from {{ ref('stg_app__experiment_assignments') }}

),

experiments as (

    select * from {{ ref('experiments') }}

),

variants as (

    select distinct
        experiment_id,
        variant

    from assignments

),

final as (

    select
        {{ experiment_variant_id('variants.experiment_id', 'variants.variant') }}
            as experiment_variant_id,
        variants.experiment_id,
        experiments.experiment_name,
        variants.variant

    from variants
    left join experiments
        on variants.experiment_id = experiments.experiment_id

)

select
    experiment_variant_id,
    experiment_id,
    experiment_name,
    variant

from final
