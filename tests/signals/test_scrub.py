"""The secret scrubber: every known key format is redacted; ordinary text survives."""

from __future__ import annotations

import pytest

from flowloop.scrub import scrub, scrub_value

SECRETS = [
    ("stripe live", "charge with sk_live_4eC39HqLyjWDarjtT1zdp7dc now", "stripe_key", "sk_live_4eC39"),
    ("stripe test", "STRIPE_KEY sk_test_51HabcdefGHIJKLmnop", "stripe_key", "sk_test_51H"),
    ("stripe restricted", "rk_live_00000000000000000000abcd", "stripe_key", "rk_live_0000"),
    ("aws key id", "aws id AKIAIOSFODNN7EXAMPLE in config", "aws_access_key", "AKIAIOSFODNN7EXAMPLE"),
    (
        "aws secret",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "aws_secret_key",
        "wJalrXUtnFEMI",
    ),
    ("github classic", "token ghp_1234567890abcdefghijABCDEFGHIJ123456 leaked", "github_token", "ghp_1234"),
    ("github oauth", "gho_16C7e42F292c6912E7710c838347Ae178B4a", "github_token", "gho_16C7"),
    (
        "github fine-grained",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEF",
        "github_token",
        "github_pat_11",
    ),
    ("slack bot", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "slack_token", "xoxb-1234"),
    ("slack user", "xoxp-1234567890-abcdefghij", "slack_token", "xoxp-1234"),
    ("openai legacy", "OPENAI sk-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL", "openai_key", "sk-abcdef"),
    ("openai project", "sk-proj-abc123DEF456ghi789JKL012mno345", "openai_key", "sk-proj-abc"),
    ("anthropic", "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123-XYZ", "anthropic_key", "sk-ant-api03"),
    ("google", "key=AIzaSyA-1234567890abcdefghijklmnopqrstu&q=1", "google_api_key", "AIzaSyA"),
    (
        "jwt",
        "cookie eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U;",
        "jwt",
        "eyJhbGciOiJIUzI1NiJ9",
    ),
    ("bearer header", "Authorization: Bearer abc.def-ghi_jkl", "authorization", "abc.def-ghi_jkl"),
    ("basic header", 'curl -H "Authorization: Basic dXNlcjpwYXNz" https://x', "authorization", "dXNlcjpwYXNz"),
    ("json header", '{"authorization": "Bearer 0123456789abcdef"}', "authorization", "0123456789abcdef"),
    ("password assignment", "login with password=hunter22 then", "password", "hunter22"),
    ("env password", 'DB_PASSWORD="correct horse battery"', "password", "correct horse"),
    ("yaml secret", "client_secret: s3cr3t-value", "secret", "s3cr3t-value"),
    ("token assignment", "?access_token=abcd1234efgh&page=2", "secret", "abcd1234efgh"),
    ("json api key", '{"api_key": "abcd1234efgh"}', "secret", "abcd1234efgh"),
    ("url credentials", "postgresql://bob:pa55w0rd@db.example.com:5432/app", "url_password", "pa55w0rd"),
    ("huggingface", "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH", "huggingface_token", "hf_abcdef"),
    ("gitlab", "glpat-abcdefghij0123456789", "gitlab_token", "glpat-abc"),
]


@pytest.mark.parametrize(("name", "text", "kind", "secret"), SECRETS, ids=[s[0] for s in SECRETS])
def test_known_formats_are_redacted(name: str, text: str, kind: str, secret: str) -> None:
    out = scrub(text)
    assert secret not in out
    assert f"[REDACTED:{kind}]" in out
    assert scrub(out) == out  # idempotent


def test_private_key_block_is_removed_whole() -> None:
    pem = (
        "before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7\n"
        "bm9uc2Vuc2U=\n-----END RSA PRIVATE KEY-----\nafter"
    )
    assert scrub(pem) == "before\n[REDACTED:private_key]\nafter"
    openssh = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----"
    assert scrub(openssh) == "[REDACTED:private_key]"
    truncated = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC"
    assert "MIIEvQ" not in scrub(truncated)


def test_url_keeps_user_and_host() -> None:
    out = scrub("clone https://x-access-token:ghp_1234567890abcdefghijABCDEFGHIJ123456@github.com/o/r.git")
    assert out.startswith("clone https://x-access-token:[REDACTED:")
    assert out.endswith("@github.com/o/r.git")


SURVIVORS = [
    "commit 3f786850e387550fdab836ed7e6dc881de23001b fixed the ledger rounding",
    "request id 123e4567-e89b-12d3-a456-426614174000 failed",
    "We rotated the password after the incident; the token: expires soon.",
    "Set max_tokens=256 and temperature=0.2 for the planner.",
    "scikit uses sk-learn-compatible-estimators-for-everything in prose",
    "token=${GITHUB_TOKEN} is read from the environment",
    "password: <your password here>",
    "see https://user@example.com/docs and https://example.com/a?q=1",
    "Use bearer tokens for the API (see ADR-12).",
    "the risk-assessment-for-the-new-payment-flow-2024 doc",
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "",
]


@pytest.mark.parametrize("text", SURVIVORS)
def test_ordinary_text_survives(text: str) -> None:
    assert scrub(text) == text


def test_scrub_value_walks_nested_structures() -> None:
    value = {
        "prompt": "use sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "options": ["a", "AKIAIOSFODNN7EXAMPLE"],
        "nested": {"n": 3, "deep": ("password=hunter22",)},
        "score": 0.5,
        "flag": None,
    }
    out = scrub_value(value)
    assert out["prompt"] == "use [REDACTED:stripe_key]"
    assert out["options"] == ["a", "[REDACTED:aws_access_key]"]
    assert out["nested"] == {"n": 3, "deep": ("password=[REDACTED:password]",)}
    assert out["score"] == 0.5 and out["flag"] is None


# Issue 11: one real-format sample per kind that used to be stored in clear.
GAPS = [
    ("django settings", "SECRET_KEY=django-insecure-7x!k2p#q9v", "secret", "django-insecure"),
    ("django env", "DJANGO_SECRET_KEY='w8$kq2-zz91-lmn0'", "secret", "w8$kq2"),
    ("jwt secret yaml", "JWT_SECRET_KEY: 4f9a2c71e0b3d5", "secret", "4f9a2c71e0b3d5"),
    ("redis empty user", "REDIS_URL=redis://:s3cr3tpw@cache.internal:6379/0", "url_password", "s3cr3tpw"),
    ("azure storage", "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;EndpointSuffix=core.windows.net",
     "azure_key", "Eby8vdM02xNO"),
    ("sendgrid", "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", "sendgrid_key", "TwL2iGABf9DH"),
    ("twilio api key", "twilio key SK2a0747eba6abf96b7e3c3ff0b4530f6e", "twilio_key", "SK2a0747eba6"),
    ("mailchimp", "MC 0e5b2f1c3d4a5b6c7d8e9f0a1b2c3d4e-us14", "mailchimp_key", "0e5b2f1c3d4a"),
    ("discord bot", "bot token MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs", "discord_token", "ZnCjm1XVW7"),
    ("telegram bot", "TG 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0", "telegram_token", "AAHdqTcvCH1v"),
    ("digitalocean", "dop_v1_" + "a1b2c3d4" * 8, "digitalocean_token", "a1b2c3d4a1b2"),
    ("shopify", "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", "shopify_token", "1a2b3c4d5e6f"),
    ("pypi", "pypi-AgEIcHlwaS5vcmcCJGI4YjQ5ZDNlLTk4YTQtNDBhMC1hYTliLWJjZWY3ZGQ4ZjQ3NQ", "pypi_token", "AgEIcHlwaS5v"),
    ("slack app", "xapp-1-A0123456789-1234567890123-abcdef0123456789abcdef", "slack_token", "A0123456789-12"),
    ("curl basic", "curl -u admin:Tr0ub4dor https://api.example.com", "password", "Tr0ub4dor"),
    ("cli password", "mysql --password hunter2x -h db", "password", "hunter2x"),
    ("cli password equals", "psql --db-password=hunter2x", "password", "hunter2x"),
    ("netrc one line", "machine api.example.com login bob password n3trcpw", "password", "n3trcpw"),
    ("netrc block", "machine api.heroku.com\n  login me@example.com\n  password 01234abcdef", "password", "01234abcdef"),
    ("docker config", '{"auths": {"ghcr.io": {"auth": "Ym9iOnMzY3IzdHB3"}}}', "docker_auth", "Ym9iOnMzY3IzdHB3"),
    ("password with slash", "password=p/ss@w0rd!", "password", "p/ss@w0rd"),
    ("url password with slash and at", "postgres://bob:p@ss/w0rd@db.internal:5432/app", "url_password", "ss/w0rd"),
    ("short password", "login with password=abc", "password", "=abc"),
]


@pytest.mark.parametrize(("name", "text", "kind", "secret"), GAPS, ids=[g[0] for g in GAPS])
def test_issue11_gaps_are_redacted(name: str, text: str, kind: str, secret: str) -> None:
    out = scrub(text)
    assert secret not in out, out
    assert f"[REDACTED:{kind}]" in out
    assert scrub(out) == out


NOT_SECRETS = [
    "the primary_key=id column and sort_key=name",
    "run `docker login` and then --password-stdin < token.txt",
    "see https://example.com:8080/users/profile for details",
    "curl -u $USER:$TOKEN https://api.example.com",
    "git log --author=bob --since=2.weeks",
    "Version 12345678:abc is not a telegram token",
    "The SK team meets at 10; SG.release notes are out.",
    "the password field is validated; see login.py",
    'config = {"auth": "none"}',
]


@pytest.mark.parametrize("text", NOT_SECRETS)
def test_prose_and_code_near_the_new_patterns_survive(text: str) -> None:
    assert scrub(text) == text
