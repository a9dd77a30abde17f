-- the warehouse side of a reconciliation, by quarter and line
select '2024Q1' as quarter, 'revenue' as line, 100.0 as amount
union all select '2024Q1', 'cost', 50.0
union all select '2024Q2', 'revenue', 110.0
union all select null, 'revenue', 7.0
union all select '2024Q4', 'revenue', 5.0
union all select '2024Q5', 'revenue', null
