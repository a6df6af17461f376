"""API clients and dlt sources, one module per external system."""
