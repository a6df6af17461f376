"""Lead scoring: rules from `include/scoring/rules.yaml`, vectorised over the lead base."""
