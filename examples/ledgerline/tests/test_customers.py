def test_create_and_list(api):
    created = api.post("/customers", json={"email": "ap@acme.example", "name": "Acme"}).json()
    assert created["id"] in [c["id"] for c in api.get("/customers").json()["data"]]


def test_other_tenants_customer_is_404_not_403(api, api_b):
    created = api.post("/customers", json={"email": "ap@acme.example", "name": "Acme"}).json()
    response = api_b.post(f"/customers/{created['id']}/dunning/pause")
    assert response.status_code == 404
    assert response.json()["code"] == "customer.not_found"


def test_pause_dunning(api):
    created = api.post("/customers", json={"email": "ap@acme.example", "name": "Acme"}).json()
    assert api.post(f"/customers/{created['id']}/dunning/pause").json()["dunning_paused"] is True
