"""dbt invocation."""
