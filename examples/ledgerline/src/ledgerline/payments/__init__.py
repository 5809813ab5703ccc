"""Money movement: Stripe client, webhooks, idempotency, refunds, reconciliation."""
