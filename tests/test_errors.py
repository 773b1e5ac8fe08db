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


def test_every_secret_in_one_message_is_redacted() -> None:
    """Two URLs with passwords and a password= parameter in one message: all three go, everything else stays."""
    message = ("cannot reach postgresql://alice:pw-one@db1:5432/app, then redis://:pw-two@cache:6379/0; "
               "libpq said host=db3 password=pw-three sslmode=require")
    assert redact(message) == (
        "cannot reach postgresql://alice:***@db1:5432/app, then redis://:***@cache:6379/0; "
        "libpq said host=db3 password=*** sslmode=require")


def test_several_password_parameters_and_repeated_urls_are_all_redacted() -> None:
    """Redaction is not limited to the first match of either kind."""
    out = redact("a=postgresql://u:first@h/db b=postgresql://u:second@h/db ?password=third&x=1 PASSWORD=fourth")
    assert out == "a=postgresql://u:***@h/db b=postgresql://u:***@h/db ?password=***&x=1 PASSWORD=***"
