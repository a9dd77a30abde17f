"""Checks of the project's own rules, read from dbt's manifest."""
