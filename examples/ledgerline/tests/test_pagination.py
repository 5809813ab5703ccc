from ledgerline.api.pagination import MAX_LIMIT, decode_cursor, encode_cursor


def test_cursor_round_trip(clock):
    import uuid

    row_id = uuid.uuid4()
    assert decode_cursor(encode_cursor(clock.now(), row_id)) == (clock.now(), row_id)


def test_rows_sharing_created_at_are_not_skipped(api, invoice_factory):
    created = {invoice_factory(finalize=False)["id"] for _ in range(5)}  # frozen clock: same timestamp
    seen, cursor = set(), None
    while True:
        page = api.get("/invoices", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen |= {i["id"] for i in page["data"]}
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert created <= seen


def test_limit_above_max_is_rejected(api):
    response = api.get("/invoices", params={"limit": MAX_LIMIT + 1})
    assert response.status_code == 400
    assert response.json()["code"] == "pagination.limit_out_of_range"


def test_malformed_cursor_is_a_400_problem(api):
    response = api.get("/invoices", params={"cursor": "not-base64!!"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "pagination.invalid_cursor"


def test_archived_customers_are_not_listed(api):
    api.post("/customers", json={"email": "gone@example.com", "name": "Gone"})
    page = api.get("/customers").json()
    assert all(c["email"] != "archived@example.com" for c in page["data"])
