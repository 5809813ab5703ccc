"""Domain events through a transactional outbox (ADR 0005): write, publish, consume."""
