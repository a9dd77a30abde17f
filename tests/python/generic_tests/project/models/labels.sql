-- blank, whitespace and placeholder values that are "missing" in disguise
select 1 as id, 'a' as label
union all select 2, ''
union all select 3, '  '
union all select 4, 'N/A'
