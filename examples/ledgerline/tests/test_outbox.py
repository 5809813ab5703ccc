from ledgerline.events.consumers import dispatch
from ledgerline.events.publisher import publish_batch


def test_event_written_in_same_transaction(api, invoice_factory, outbox_rows):
    invoice = invoice_factory()
    assert [r.event_type for r in outbox_rows()] == ["invoice.finalized"]
    assert outbox_rows()[0].payload["id"] == invoice["id"]


def test_overlapping_publishers_publish_each_row_once(api, invoice_factory, celery_sent):
    for _ in range(3):
        invoice_factory()
    assert publish_batch() + publish_batch() == 3
    assert len(celery_sent) == 3


def test_consumer_is_idempotent(db_session, email_outbox, finalized_event):
    dispatch(db_session, finalized_event.id, "invoice.finalized", finalized_event.payload)
    dispatch(db_session, finalized_event.id, "invoice.finalized", finalized_event.payload)
    assert len(email_outbox) == 1


def test_refund_event_consumed_once(db_session, email_outbox, refund_event):
    for _ in range(2):
        dispatch(db_session, refund_event.id, "refund.created", refund_event.payload)
    assert len(email_outbox) == 1


def test_payload_carries_schema_version(outbox_rows, invoice_factory):
    invoice_factory()
    assert outbox_rows()[0].schema_version == 2
