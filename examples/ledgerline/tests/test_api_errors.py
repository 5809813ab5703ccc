import pytest

from ledgerline.api.errors import ERRORS, ProblemError


@pytest.mark.parametrize("code", sorted(ERRORS))
def test_every_code_renders_a_problem(code):
    body = ProblemError(code, detail="x").body("/somewhere")
    assert set(body) >= {"type", "title", "status", "detail", "code"}
    assert body["type"].endswith(code)
    assert body["status"] == ERRORS[code][0]


def test_unexpected_errors_have_no_stack_trace(api, monkeypatch):
    from ledgerline.billing import invoices

    monkeypatch.setattr(invoices, "to_json", lambda _: 1 / 0)
    response = api.get("/invoices")
    assert response.status_code == 500
    assert response.json()["code"] == "internal.unexpected"
    assert "Traceback" not in response.text


def test_validation_errors_are_problems(api):
    response = api.post("/invoices", json={"currency": "euro"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_rate_limit_is_a_429_problem_with_retry_after(api, monkeypatch):
    from ledgerline.core.config import get_settings

    monkeypatch.setattr(get_settings(), "rate_limit_per_minute", 1)
    api.get("/invoices")
    response = api.get("/invoices")
    assert response.status_code == 429 and "Retry-After" in response.headers
