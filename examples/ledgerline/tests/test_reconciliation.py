import datetime as dt

from ledgerline.payments.reconciliation import reconcile, window


def test_window_is_a_utc_day():
    start, end = window(dt.date(2025, 9, 3))
    assert end - start == 86_400
    assert dt.datetime.fromtimestamp(start, dt.UTC).hour == 0


def test_clean_day(stripe_fake):
    stripe_fake.balance_transactions([{"source": "ch_1", "amount": 12_500}])
    assert reconcile(dt.date(2025, 9, 3), {"ch_1": 12_500}).clean


def test_mismatch_and_missing_are_reported(stripe_fake):
    stripe_fake.balance_transactions([{"source": "ch_1", "amount": 12_500}, {"source": "ch_2", "amount": 100}])
    result = reconcile(dt.date(2025, 9, 3), {"ch_1": 12_000, "ch_3": 50})
    assert result.amount_mismatches == [("ch_1", 12_000, 12_500)]
    assert result.missing_locally == ["ch_2"] and result.missing_in_stripe == ["ch_3"]


def test_partial_refunds_are_matched(stripe_fake):
    stripe_fake.balance_transactions([{"source": "ch_1", "amount": 12_500}, {"source": "re_1", "amount": -2_500}])
    assert reconcile(dt.date(2025, 10, 7), {"ch_1": 12_500, "re_1": -2_500}).clean


def test_late_evening_payout_lands_on_its_utc_day(stripe_fake, clock):
    # 23:40 UTC on the 3rd is the 4th in Stockholm; reconciliation must use the UTC day (LED-185).
    stripe_fake.balance_transactions([{"source": "ch_9", "amount": 100, "created": "2025-09-03T23:40:00Z"}])
    assert reconcile(dt.date(2025, 9, 3), {"ch_9": 100}).matched == 1
