"""dlt pipelines from the connectors into the warehouse's raw schemas."""
