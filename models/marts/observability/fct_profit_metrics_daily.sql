-- Metric history of the profit pipelines, scored by dq_metric_anomaly.
-- The metrics and their settings are configuration (config.meta in the .yml);
-- the SQL is the shared macro metric_history.
{{ metric_history({'stg_app__orders': 'orders', 'fct_order_item_profit': 'order_item_profit'}) }}
