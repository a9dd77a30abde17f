-- the canonical daily activity: one row per user and day, and day 3
select date '2024-06-01' as activity_date, 'u1' as user_id
union all select date '2024-06-01', 'u2'
union all select date '2024-06-02', 'u1'
union all select date '2024-06-03', 'u3'
