"""Great Expectations gates on raw loads and marts."""
