-- cost pools allocated to targets; every row repeats its pool's total;
-- p2 leaks 10 of 50
select 'p1' as pool, 'a' as target, 60.0 as allocated, 100.0 as pool_total
union all select 'p1', 'b', 40.0, 100.0
union all select 'p2', 'a', 30.0, 50.0
union all select 'p2', 'b', 10.0, 50.0
