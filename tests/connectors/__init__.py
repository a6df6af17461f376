"""Connector unit tests (a package, so names may repeat those in tests/sandbox)."""
