import pytest

from ledgerline.tenancy.context import MissingTenantContext, current_tenant, tenant_scope
from ledgerline.tenancy.isolation import tenant_session

LIST_ENDPOINTS = ["/invoices", "/customers", "/credit_notes"]


def test_no_context_no_session():
    with pytest.raises(MissingTenantContext):
        with tenant_session():
            pass


@pytest.mark.parametrize("path", LIST_ENDPOINTS)
def test_list_endpoints_never_return_other_tenants_rows(api, api_b, invoice_factory, path):
    invoice_factory()
    assert api_b.get(path).json()["data"] == []


def test_csv_export_is_tenant_scoped(api, api_b, invoice_factory):
    invoice_factory()
    body = api_b.get("/reports/invoices.csv", params={"start": "2025-03-01", "end": "2025-03-31"}).text
    assert body.count("\n") == 1  # header only


def test_context_is_reset_after_scope(tenant_a, tenant_b):
    with tenant_scope(tenant_a):
        with tenant_scope(tenant_b):
            assert current_tenant() == tenant_b
        assert current_tenant() == tenant_a
    with pytest.raises(MissingTenantContext):
        current_tenant()


def test_celery_task_needs_tenant_id():
    from ledgerline.workers.tasks import run_dunning_step

    with pytest.raises(ValueError):
        run_dunning_step(step_id="00000000-0000-0000-0000-000000000001")


def test_health_check_needs_no_api_key(clock):
    from fastapi.testclient import TestClient

    from ledgerline.api.app import create_app

    assert TestClient(create_app()).get("/healthz").status_code == 200
