-- net + tax + shipping = total; 2 is off by a rounding 0.001, 3 has a NULL
-- part, 4 has a zero total
select 1 as id, 10.0 as net, 2.0 as tax, 1.0 as shipping, 13.0 as total
union all select 2, 10.001, 2.0, 1.0, 13.0
union all select 3, null, 1.0, 1.0, 2.0
union all select 4, 0.0, 0.0, 1.0, 0.0
