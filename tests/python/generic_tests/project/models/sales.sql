-- revenue by currency and day; GBP on day 1 has no FX rate, nor the NULL currency
select 'EUR' as currency, date '2024-06-01' as sale_date, 100.0 as revenue
union all select 'EUR', date '2024-06-02', 100.0
union all select 'GBP', date '2024-06-01', 1.0
union all select null, date '2024-06-02', 5.0
