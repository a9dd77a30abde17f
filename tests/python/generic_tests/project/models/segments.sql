-- the segments daily should have; 'silent' never sent anything
select 'full' as segment
union all select 'silent'
