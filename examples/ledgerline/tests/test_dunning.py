import datetime as dt

from ledgerline.billing.dunning import SCHEDULE, charge_idempotency_key
from ledgerline.workers.tasks import run_dunning_step


def test_schedule_retries_charges_on_days_3_7_14():
    assert [d for d, kind in SCHEDULE if kind == "charge"] == [3, 7, 14]


def test_step_runs_once_even_if_delivered_twice(dunning_step, tenant_a, email_outbox):
    first = run_dunning_step(step_id=str(dunning_step.id), tenant_id=str(tenant_a.tenant_id))
    second = run_dunning_step(step_id=str(dunning_step.id), tenant_id=str(tenant_a.tenant_id))
    assert (first, second) == ("reminder", "already-claimed")
    assert len(email_outbox) == 1


def test_charge_uses_stable_idempotency_key(charge_step, tenant_a, stripe_fake):
    run_dunning_step(step_id=str(charge_step.id), tenant_id=str(tenant_a.tenant_id))
    assert stripe_fake.last_request.headers["Idempotency-Key"] == charge_idempotency_key(charge_step.invoice_id, charge_step.step)


def test_voided_invoice_skips_dunning(charge_step, tenant_a, api):
    api.post(f"/invoices/{charge_step.invoice_id}/void")
    assert run_dunning_step(step_id=str(charge_step.id), tenant_id=str(tenant_a.tenant_id)) == "skipped"


def test_reminder_day_counts_in_utc(clock, dunning_step):
    # An invoice due at 23:30 UTC gets its day-1 reminder 24 h later, whatever the server's zone.
    assert dunning_step.due_at - dt.timedelta(days=1) >= clock.now() - dt.timedelta(days=2)


def test_email_retries_are_bounded(email_provider_down):
    from ledgerline.notifications.email import send
    from ledgerline.notifications.templates import render

    try:
        send(render("reminder", {"number": "INV-1", "amount": 100}), idempotency_key="k")
    except ConnectionError:
        pass
    assert email_provider_down.calls == 5
