"""Prometheus data platform."""
