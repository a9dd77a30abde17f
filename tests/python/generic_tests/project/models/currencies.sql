select 'EUR' as currency
union all select 'GBP'
