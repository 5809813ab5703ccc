"""Ledgerline: B2B invoicing and payments API.

Packages by responsibility: ``api`` (HTTP surface), ``billing`` (invoice domain), ``payments``
(Stripe and money movement), ``tenancy`` (isolation), ``events`` (transactional outbox),
``workers`` (Celery), ``db`` (models, sessions, migrations), ``notifications``, ``reporting``
and ``core`` (money, clock, config, logging).
"""

__version__ = "1.14.0"
