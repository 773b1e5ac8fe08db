"""Redaction keeps URL passwords out of every message."""

from __future__ import annotations

from balance_bench.errors import redact


def test_redacts_userinfo_password() -> None:
    """A password in user:password@ becomes *** and the rest of the URL stays readable."""
    out = redact("cannot reach postgresql+psycopg://bob:s3cr%40t@db.example:5432/app")
    assert "s3cr" not in out
    assert "postgresql+psycopg://bob:***@db.example:5432/app" in out


def test_redacts_password_parameter_and_redis_urls() -> None:
    """password= query parameters and redis://:pw@ URLs are redacted too."""
    out = redact("redis://:hunter2@cache:6379/0 and postgresql://u@h/db?password=topsecret&sslmode=require")
    assert "hunter2" not in out and "topsecret" not in out
    assert "sslmode=require" in out


def test_leaves_urls_without_password_alone() -> None:
    """Nothing changes where there is nothing secret."""
    text = "postgresql://postgres@127.0.0.1:5432/postgres"
    assert redact(text) == text
