-- the reported side: Q2 is 100 (model 110), Q3 only here, Q4 reported 0
select '2024Q1' as quarter, 'revenue' as line, 100.0 as amount
union all select '2024Q1', 'cost', 50.0
union all select '2024Q2', 'revenue', 100.0
union all select null, 'revenue', 7.0
union all select '2024Q3', 'revenue', 10.0
union all select '2024Q4', 'revenue', 0.0
union all select '2024Q5', 'revenue', 1.0
