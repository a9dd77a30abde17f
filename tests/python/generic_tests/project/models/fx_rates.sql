select 'EUR' as currency, date '2024-06-01' as rate_date, 1.08 as rate
union all select 'EUR', date '2024-06-02', 1.09
union all select 'GBP', date '2024-06-02', 1.27
