-- id 3 has no x, id 4 no y and no label; id 2 has x = y
select 1 as id, 10 as x, 5 as y, 'a' as label
union all select 2, 20, 20, 'b'
union all select 3, null, 1, 'c'
union all select 4, 30, null, null
