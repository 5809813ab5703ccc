"""Celery workers and beat: outbox publishing, dunning, reconciliation, housekeeping."""
