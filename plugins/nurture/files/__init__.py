"""CSV files dropped by marketers (trade-show lists, business-card exports) into `raw_files`."""
