-- Metric history of the growth and engagement pipelines, scored by dq_metric_anomaly.
-- The metrics and their settings are configuration (config.meta in the .yml);
-- the SQL is the shared macro metric_history.
{{ metric_history({'stg_events__events': 'events', 'fct_active_users_daily': 'active_users_daily'}) }}
