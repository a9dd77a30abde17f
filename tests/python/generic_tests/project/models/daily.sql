-- one row per segment and day 2024-06-01 .. 2024-06-14, except:
-- gap: no 2024-06-10; late: no 2024-06-14 (the latest closed day)
select
    cast(day as date) as event_date,
    segment

from range(date '2024-06-01', date '2024-06-15', interval 1 day) as days (day)
cross join (select unnest(['full', 'gap', 'late']) as segment) as segments
where
    not (segment = 'gap' and day = date '2024-06-10')
    and not (segment = 'late' and day = date '2024-06-14')
