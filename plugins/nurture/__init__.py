"""Nurture: lead-nurturing data platform (syncs, marts, scoring, MQL handoff)."""

__version__ = "0.1.0"
