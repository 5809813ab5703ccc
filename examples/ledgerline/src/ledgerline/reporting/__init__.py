"""Ledger reports and CSV exports, always inside one tenant's scope."""
