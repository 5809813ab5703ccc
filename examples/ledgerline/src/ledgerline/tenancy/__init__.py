"""Multi-tenancy: who the current tenant is and how every query is scoped to it (ADR 0003)."""
