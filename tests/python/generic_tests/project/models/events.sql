-- as_of is 2024-06-15 06:00: web is 1 h old, app 30 h, batch only has a
-- future-dated row (a 2099 default) besides a 10-day-old one
select timestamp '2024-06-15 05:00:00' as event_at, 'web' as segment
union all select timestamp '2024-06-14 18:00:00', 'web'
union all select timestamp '2024-06-14 00:00:00', 'app'
union all select timestamp '2024-06-05 00:00:00', 'batch'
union all select timestamp '2099-12-31 00:00:00', 'batch'
