"""Configuration is read once and a bad value stops the start with a message naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, describe, load

BASE = {"FRONTDOOR_ENV": "test"}


@pytest.mark.parametrize(
    "name,value,expect",
    [
        ("FRONTDOOR_PORT", "eighty", "FRONTDOOR_PORT='eighty': expected a whole number"),
        ("FRONTDOOR_PORT", "70000", "FRONTDOOR_PORT"),
        ("FRONTDOOR_ENV", "prod", "FRONTDOOR_ENV='prod': expected one of production, development, test"),
        ("FRONTDOOR_LOG_LEVEL", "loud", "FRONTDOOR_LOG_LEVEL"),
        ("FRONTDOOR_SESSION_IDLE_SECONDS", "5", "FRONTDOOR_SESSION_IDLE_SECONDS"),
        ("FRONTDOOR_REDIS_URL", "localhost:6379", "expected a URL starting with redis://"),
        ("FRONTDOOR_LANGUAGES", "fr", "FRONTDOOR_LANGUAGES"),
        ("FRONTDOOR_SMTP_STARTTLS", "maybe", "FRONTDOOR_SMTP_STARTTLS"),
        ("FRONTDOOR_TRUSTED_PROXIES", "proxy.internal", "FRONTDOOR_TRUSTED_PROXIES"),
        ("FRONTDOOR_TRUSTED_PROXIES", "10.0.0.1, 10.0.0.300", "FRONTDOOR_TRUSTED_PROXIES"),
        ("FRONTDOOR_TRUSTED_PROXIES", "10.0.0.0/33", "FRONTDOOR_TRUSTED_PROXIES"),
        ("FRONTDOOR_TRUSTED_PROXIES", "10.0.0.1/8", "FRONTDOOR_TRUSTED_PROXIES"),  # host bits set: one host or a network?
    ],
)
def test_bad_values_name_the_variable(name, value, expect):
    with pytest.raises(ConfigError, match=expect.replace("(", r"\(").replace("?", r"\?")):
        load({**BASE, name: value})


def test_production_needs_secrets():
    with pytest.raises(ConfigError, match="FRONTDOOR_HASH_SECRET"):
        load({"FRONTDOOR_ENV": "production"})
    with pytest.raises(ConfigError, match="FRONTDOOR_ENCRYPTION_KEY"):
        load({"FRONTDOOR_ENV": "production", "FRONTDOOR_HASH_SECRET": "x" * 32})


def test_enabled_channels_need_complete_configuration():
    with pytest.raises(ConfigError, match="FRONTDOOR_TELEGRAM_WEBHOOK_SECRET"):
        load({**BASE, "FRONTDOOR_TELEGRAM_TOKEN": "1:x", "FRONTDOOR_TELEGRAM_WEBHOOK_URL": "https://bot.example/telegram/webhook"})
    with pytest.raises(ConfigError, match="FRONTDOOR_SMTP_FROM"):
        load({**BASE, "FRONTDOOR_SMTP_HOST": "smtp.example"})


def test_defaults_are_the_embedded_default():
    s = load(BASE)
    assert (s.host, s.port, s.session_idle_seconds, s.rate_limit_per_minute) == ("127.0.0.1", 8080, 1800, 10)
    assert s.allow_fictional_numbers and not s.telegram_enabled and not s.redis_url


def test_trusted_proxies_are_addresses_or_networks_and_none_by_default():
    from ipaddress import ip_address

    assert load(BASE).trusted_proxies == ()
    trusted = load({**BASE, "FRONTDOOR_TRUSTED_PROXIES": " 10.0.0.0/8, 192.0.2.1 ,2001:db8::/32,"}).trusted_proxies
    assert len(trusted) == 3
    inside = [any(ip_address(a) in net for net in trusted) for a in ("10.9.8.7", "192.0.2.1", "2001:db8::5", "192.0.2.2", "11.0.0.1")]
    assert inside == [True, True, True, False, False]


def test_secrets_are_not_in_repr():
    s = load({**BASE, "FRONTDOOR_TELEGRAM_TOKEN": "123:SECRETTOKEN", "FRONTDOOR_HASH_SECRET": "h" * 32})
    assert "SECRETTOKEN" not in repr(s) and "hhhh" not in repr(s)


def test_readme_configuration_table_is_current():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert describe() in readme, "README's configuration table is out of date: paste `frontdoor config` into it"
