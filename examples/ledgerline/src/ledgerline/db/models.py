"""SQLAlchemy 2 models. Every table carries ``tenant_id`` (ADR 0003); money columns are
``*_minor`` BIGINT plus a ``currency`` CHAR(3) (ADR 0002); timestamps are timestamptz UTC."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import JSON, BigInteger, CHAR, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class TenantScoped:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Tenant(Base):
    __tablename__ = "tenants"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    default_currency: Mapped[str] = mapped_column(CHAR(3), default="EUR")
    invoice_prefix: Mapped[str] = mapped_column(String(12), default="INV")


class ApiKey(TenantScoped, Base):
    __tablename__ = "api_keys"
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Customer(TenantScoped, Base):
    __tablename__ = "customers"
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    stripe_customer_id: Mapped[str | None] = mapped_column(String(64))
    balance_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    dunning_paused: Mapped[bool] = mapped_column(default=False)
    archived_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Invoice(TenantScoped, Base):
    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("tenant_id", "number"),)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    number: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    currency: Mapped[str] = mapped_column(CHAR(3))
    subtotal_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    total_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finalized_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class LineItem(TenantScoped, Base):
    __tablename__ = "line_items"
    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoices.id"), index=True)
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_amount_minor: Mapped[int] = mapped_column(BigInteger)
    tax_rate_bp: Mapped[int] = mapped_column(Integer, default=0)  # basis points


class CreditNote(TenantScoped, Base):
    __tablename__ = "credit_notes"
    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(CHAR(3))
    reason: Mapped[str] = mapped_column(String(64))


class Refund(TenantScoped, Base):
    __tablename__ = "refunds"
    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(CHAR(3))
    stripe_refund_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(String(64))
    metadata_json: Mapped[dict] = mapped_column(JSON, default=dict)


class DunningStep(TenantScoped, Base):
    __tablename__ = "dunning_schedule"
    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoices.id"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # charge | reminder
    due_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|claimed|done|skipped


class OutboxEvent(TenantScoped, Base):
    __tablename__ = "outbox_events"
    aggregate: Mapped[str] = mapped_column(String(32))
    aggregate_id: Mapped[uuid.UUID]
    event_type: Mapped[str] = mapped_column(String(64))
    schema_version: Mapped[int] = mapped_column(Integer, default=1)
    payload: Mapped[dict] = mapped_column(JSON)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class ProcessedWebhookEvent(Base):
    """Stripe event ids already handled (LED-181); replaces the Redis SET NX keys."""

    __tablename__ = "processed_webhook_events"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(255))
    tenant_id: Mapped[uuid.UUID | None]
    processed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class IdempotencyKey(TenantScoped, Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None]
    response_body: Mapped[dict | None] = mapped_column(JSON)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class InvoiceSequence(Base):
    __tablename__ = "invoice_sequences"
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    next_number: Mapped[int] = mapped_column(Integer, default=1)
