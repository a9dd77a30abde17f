-- two rows whose key is NULL
select cast(null as varchar) as k, 1 as n
union all select null, 2
