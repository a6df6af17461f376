"""MQL outbox and deliveries to sales."""
