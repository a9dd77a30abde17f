select
    cast(null as timestamp) as event_at,
    cast(null as varchar) as segment,
    cast(null as integer) as amount
where false
