"""Configuration: every ``FRONTDOOR_*`` variable, read and validated once at start.

A bad value stops the start with a :class:`ConfigError` that names the
variable and says what it expects, so the on-call engineer can fix it without
reading code. The table in the README is generated from :data:`VARIABLES`
(``frontdoor config``), and a test keeps the two in step.

Secrets (tokens, keys) are held here and nowhere else; ``Settings`` has no
``__repr__`` that shows them.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Mapping

ENVIRONMENTS = ("production", "development", "test")


class ConfigError(ValueError):
    """A configuration value is missing or wrong. The message names the variable."""


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    help: str
    secret: bool = False


VARIABLES: tuple[Variable, ...] = (
    Variable("FRONTDOOR_ENV", "production", "production, development or test. development and test accept Ofcom's drama numbers (07700 900xxx) and allow the console callback sink."),
    Variable("FRONTDOOR_HOST", "127.0.0.1", "Address the web server listens on."),
    Variable("FRONTDOOR_PORT", "8080", "Port the web server listens on (1-65535)."),
    Variable("FRONTDOOR_DATA_DIR", "./data", "Folder for the SQLite callback outbox and a generated key (embedded default)."),
    Variable("FRONTDOOR_LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING or ERROR. Message text is never logged at any level."),
    Variable("FRONTDOOR_FLOWS_DIR", "", "Folder holding the conversation YAML (default: flows/ shipped with the bot)."),
    Variable("FRONTDOOR_SESSION_IDLE_SECONDS", "1800", "A session idle this long is over and wiped."),
    Variable("FRONTDOOR_RATE_LIMIT_PER_MINUTE", "10", "Messages one sender may send a minute, on every channel, before a single reply with the number and then silence."),
    Variable("FRONTDOOR_HASH_SECRET", "", "Secret for keyed hashes of chat ids and phone numbers (session keys, logs). Required in production; random per process otherwise.", secret=True),
    Variable("FRONTDOOR_LANGUAGES", "", "Languages offered: 'en' or 'en,cy'. Empty: en,cy once every Welsh text on the crisis path is marked reviewed in flows/, en until then."),
    Variable("FRONTDOOR_REDIS_URL", "", "redis://... for sessions shared by several replicas. Empty: in-memory sessions."),
    Variable("FRONTDOOR_REDIS_MAX_CONNECTIONS", "64", "Connections each replica may open to Redis. In a burst a message waits for a free one (up to 3 s) instead of failing."),
    Variable("FRONTDOOR_OUTBOX_URL", "", "postgresql://... for a callback outbox shared by several replicas. Empty: SQLite in the data folder."),
    Variable("FRONTDOOR_ENCRYPTION_KEY", "", "Fernet key(s) for callback requests at rest, comma-separated, newest first. Empty outside production: generated into the data folder.", secret=True),
    Variable("FRONTDOOR_CALLBACK_ALERT_SECONDS", "300", "A callback request waiting longer than this turns readiness to degraded."),
    Variable("FRONTDOOR_CALLBACK_WEBHOOK_URL", "", "Sink: POST each callback request here as signed JSON."),
    Variable("FRONTDOOR_CALLBACK_WEBHOOK_SECRET", "", "HMAC-SHA256 secret for the callback webhook signature.", secret=True),
    Variable("FRONTDOOR_SMTP_HOST", "", "Sink: email callback requests through this SMTP server (STARTTLS)."),
    Variable("FRONTDOOR_SMTP_PORT", "587", "SMTP port."),
    Variable("FRONTDOOR_SMTP_USERNAME", "", "SMTP user name."),
    Variable("FRONTDOOR_SMTP_PASSWORD", "", "SMTP password.", secret=True),
    Variable("FRONTDOOR_SMTP_FROM", "", "Sender address for callback emails."),
    Variable("FRONTDOOR_SMTP_TO", "", "The crisis team's secure mailbox."),
    Variable("FRONTDOOR_SMTP_STARTTLS", "true", "Require STARTTLS (true or false; false only for a local test server)."),
    Variable("FRONTDOOR_TELEGRAM_STAFF_CHAT_ID", "", "Sink: post callback requests to this staff Telegram chat through the bot."),
    Variable("FRONTDOOR_TELEGRAM_TOKEN", "", "Bot token from BotFather. Empty: Telegram is off.", secret=True),
    Variable("FRONTDOOR_TELEGRAM_WEBHOOK_URL", "", "Public HTTPS URL of /telegram/webhook. Empty with a token: long polling."),
    Variable("FRONTDOOR_TELEGRAM_WEBHOOK_SECRET", "", "Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token.", secret=True),
    Variable("FRONTDOOR_TELEGRAM_API_URL", "https://api.telegram.org", "Bot API server root; the bot calls {root}/bot{token}/{method}."),
    Variable("FRONTDOOR_TWILIO_AUTH_TOKEN", "", "Twilio auth token: turns on POST /sms/twilio and checks its signatures.", secret=True),
    Variable("FRONTDOOR_PUBLIC_URL", "", "The public base URL the providers call (behind a TLS proxy), used to check signatures and as the web chat widget's link."),
    Variable("FRONTDOOR_NOTIFY_API_KEY", "", "GOV.UK Notify API key: turns on POST /sms/notify.", secret=True),
    Variable("FRONTDOOR_NOTIFY_CALLBACK_TOKEN", "", "Bearer token Notify sends with received-text callbacks.", secret=True),
    Variable("FRONTDOOR_NOTIFY_TEMPLATE_ID", "", "Notify SMS template whose body is the single field ((body))."),
    Variable("FRONTDOOR_NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk", "Notify API root (a local fake in tests)."),
    Variable("FRONTDOOR_METRICS_TOKEN", "", "If set, GET /metrics needs Authorization: Bearer <token>.", secret=True),
    Variable("FRONTDOOR_QUICK_EXIT_URL", "https://www.bbc.co.uk/weather", "Where the web chat's quick exit goes."),
    Variable("FRONTDOOR_WEBCHAT_ORIGINS", "", "Extra origins allowed to open the web chat socket (the widget on a partner site), comma-separated."),
    Variable("FRONTDOOR_TRUSTED_PROXIES", "", "The TLS proxy's address(es): IP addresses or CIDR networks, comma-separated. X-Forwarded-For is believed only from these (the right-most address not on the list is the client). Empty: no forwarded header is believed."),
)

_NAMES = {v.name for v in VARIABLES}


def _bool(name: str, raw: str) -> bool:
    low = raw.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{name}={raw!r}: expected true or false")


def _int(name: str, raw: str, lo: int, hi: int) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a whole number from {lo} to {hi}") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name}={raw!r}: expected a whole number from {lo} to {hi}")
    return value


def _networks(name: str, raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Addresses or CIDR networks. A network with host bits set (10.0.0.1/8) is refused: one host or all of them?"""
    out = []
    for item in (x.strip() for x in raw.split(",")):
        if not item:
            continue
        try:
            out.append(ipaddress.ip_network(item))
        except ValueError:
            raise ConfigError(f"{name}={raw!r}: {item!r} is not an IP address or a CIDR network (e.g. 10.0.0.5 or 10.0.0.0/24)") from None
    return tuple(out)


def _url(name: str, raw: str, schemes: tuple[str, ...]) -> str:
    raw = raw.strip()
    if raw and not raw.startswith(tuple(s + "://" for s in schemes)):
        raise ConfigError(f"{name}={raw!r}: expected a URL starting with {' or '.join(s + '://' for s in schemes)}")
    return raw.rstrip("/") if raw else raw


@dataclass(frozen=True)
class Settings:
    """Validated configuration. Build it with :func:`load`; tests use ``load(env)``."""

    env: str = "production"
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("./data")
    log_level: str = "INFO"
    flows_dir: Path | None = None
    session_idle_seconds: int = 1800
    rate_limit_per_minute: int = 10
    hash_secret: bytes = field(default=b"", repr=False)
    languages: tuple[str, ...] | None = None  # None: decided by the flow's Welsh review status
    redis_url: str = field(default="", repr=False)
    redis_max_connections: int = 64
    outbox_url: str = field(default="", repr=False)
    encryption_keys: tuple[str, ...] = field(default=(), repr=False)
    callback_alert_seconds: int = 300
    callback_webhook_url: str = ""
    callback_webhook_secret: str = field(default="", repr=False)
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_from: str = ""
    smtp_to: str = ""
    smtp_starttls: bool = True
    telegram_staff_chat_id: str = ""
    telegram_token: str = field(default="", repr=False)
    telegram_webhook_url: str = ""
    telegram_webhook_secret: str = field(default="", repr=False)
    telegram_api_url: str = "https://api.telegram.org"
    twilio_auth_token: str = field(default="", repr=False)
    public_url: str = ""
    notify_api_key: str = field(default="", repr=False)
    notify_callback_token: str = field(default="", repr=False)
    notify_template_id: str = ""
    notify_base_url: str = "https://api.notifications.service.gov.uk"
    metrics_token: str = field(default="", repr=False)
    quick_exit_url: str = "https://www.bbc.co.uk/weather"
    webchat_origins: tuple[str, ...] = ()
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    hash_secret_generated: bool = False

    @property
    def allow_fictional_numbers(self) -> bool:
        """Ofcom's drama ranges are accepted only outside production."""
        return self.env in ("development", "test")

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_token)

    @property
    def telegram_polling(self) -> bool:
        return bool(self.telegram_token) and not self.telegram_webhook_url


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """Read ``FRONTDOOR_*`` from ``environ`` (default ``os.environ``) and validate it."""
    environ = os.environ if environ is None else environ

    def get(name: str) -> str:
        assert name in _NAMES, name
        default = next(v.default for v in VARIABLES if v.name == name)
        return environ.get(name, default)

    env = get("FRONTDOOR_ENV").strip().lower()
    if env not in ENVIRONMENTS:
        raise ConfigError(f"FRONTDOOR_ENV={env!r}: expected one of {', '.join(ENVIRONMENTS)}")

    log_level = get("FRONTDOOR_LOG_LEVEL").strip().upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"FRONTDOOR_LOG_LEVEL={log_level!r}: expected DEBUG, INFO, WARNING or ERROR")

    languages: tuple[str, ...] | None = tuple(x.strip().lower() for x in get("FRONTDOOR_LANGUAGES").split(",") if x.strip()) or None
    if languages is not None and (any(lang not in ("en", "cy") for lang in languages) or languages[0] != "en"):
        raise ConfigError(f"FRONTDOOR_LANGUAGES={get('FRONTDOOR_LANGUAGES')!r}: expected 'en' or 'en,cy'")

    hash_secret = get("FRONTDOOR_HASH_SECRET").encode()
    generated = False
    if not hash_secret:
        if env == "production":
            raise ConfigError("FRONTDOOR_HASH_SECRET is empty: production needs a long random secret (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)")
        hash_secret = os.urandom(32)
        generated = True
    elif len(hash_secret) < 16:
        raise ConfigError("FRONTDOOR_HASH_SECRET: expected at least 16 characters")

    keys = tuple(k.strip() for k in get("FRONTDOOR_ENCRYPTION_KEY").split(",") if k.strip())
    if env == "production" and not keys:
        raise ConfigError("FRONTDOOR_ENCRYPTION_KEY is empty: production needs a Fernet key (`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`)")

    settings = Settings(
        env=env,
        host=get("FRONTDOOR_HOST").strip() or "127.0.0.1",
        port=_int("FRONTDOOR_PORT", get("FRONTDOOR_PORT"), 1, 65535),
        data_dir=Path(get("FRONTDOOR_DATA_DIR")),
        log_level=log_level,
        flows_dir=Path(get("FRONTDOOR_FLOWS_DIR")) if get("FRONTDOOR_FLOWS_DIR").strip() else None,
        session_idle_seconds=_int("FRONTDOOR_SESSION_IDLE_SECONDS", get("FRONTDOOR_SESSION_IDLE_SECONDS"), 60, 86400),
        rate_limit_per_minute=_int("FRONTDOOR_RATE_LIMIT_PER_MINUTE", get("FRONTDOOR_RATE_LIMIT_PER_MINUTE"), 1, 10000),
        hash_secret=hash_secret,
        hash_secret_generated=generated,
        languages=languages,
        redis_url=_url("FRONTDOOR_REDIS_URL", get("FRONTDOOR_REDIS_URL"), ("redis", "rediss", "unix")),
        redis_max_connections=_int("FRONTDOOR_REDIS_MAX_CONNECTIONS", get("FRONTDOOR_REDIS_MAX_CONNECTIONS"), 2, 10000),
        outbox_url=_url("FRONTDOOR_OUTBOX_URL", get("FRONTDOOR_OUTBOX_URL"), ("postgresql", "postgres")),
        encryption_keys=keys,
        callback_alert_seconds=_int("FRONTDOOR_CALLBACK_ALERT_SECONDS", get("FRONTDOOR_CALLBACK_ALERT_SECONDS"), 10, 86400),
        callback_webhook_url=_url("FRONTDOOR_CALLBACK_WEBHOOK_URL", get("FRONTDOOR_CALLBACK_WEBHOOK_URL"), ("https", "http")),
        callback_webhook_secret=get("FRONTDOOR_CALLBACK_WEBHOOK_SECRET"),
        smtp_host=get("FRONTDOOR_SMTP_HOST").strip(),
        smtp_port=_int("FRONTDOOR_SMTP_PORT", get("FRONTDOOR_SMTP_PORT"), 1, 65535),
        smtp_username=get("FRONTDOOR_SMTP_USERNAME"),
        smtp_password=get("FRONTDOOR_SMTP_PASSWORD"),
        smtp_from=get("FRONTDOOR_SMTP_FROM").strip(),
        smtp_to=get("FRONTDOOR_SMTP_TO").strip(),
        smtp_starttls=_bool("FRONTDOOR_SMTP_STARTTLS", get("FRONTDOOR_SMTP_STARTTLS")),
        telegram_staff_chat_id=get("FRONTDOOR_TELEGRAM_STAFF_CHAT_ID").strip(),
        telegram_token=get("FRONTDOOR_TELEGRAM_TOKEN").strip(),
        telegram_webhook_url=_url("FRONTDOOR_TELEGRAM_WEBHOOK_URL", get("FRONTDOOR_TELEGRAM_WEBHOOK_URL"), ("https", "http")),
        telegram_webhook_secret=get("FRONTDOOR_TELEGRAM_WEBHOOK_SECRET"),
        telegram_api_url=_url("FRONTDOOR_TELEGRAM_API_URL", get("FRONTDOOR_TELEGRAM_API_URL"), ("https", "http")),
        twilio_auth_token=get("FRONTDOOR_TWILIO_AUTH_TOKEN").strip(),
        public_url=_url("FRONTDOOR_PUBLIC_URL", get("FRONTDOOR_PUBLIC_URL"), ("https", "http")),
        notify_api_key=get("FRONTDOOR_NOTIFY_API_KEY").strip(),
        notify_callback_token=get("FRONTDOOR_NOTIFY_CALLBACK_TOKEN"),
        notify_template_id=get("FRONTDOOR_NOTIFY_TEMPLATE_ID").strip(),
        notify_base_url=_url("FRONTDOOR_NOTIFY_BASE_URL", get("FRONTDOOR_NOTIFY_BASE_URL"), ("https", "http")),
        metrics_token=get("FRONTDOOR_METRICS_TOKEN"),
        quick_exit_url=_url("FRONTDOOR_QUICK_EXIT_URL", get("FRONTDOOR_QUICK_EXIT_URL"), ("https", "http")),
        webchat_origins=tuple(o.strip().rstrip("/") for o in get("FRONTDOOR_WEBCHAT_ORIGINS").split(",") if o.strip()),
        trusted_proxies=_networks("FRONTDOOR_TRUSTED_PROXIES", get("FRONTDOOR_TRUSTED_PROXIES")),
    )
    _check_channels(settings)
    return settings


def _check_channels(s: Settings) -> None:
    """Configuration must be complete for every channel and sink that is switched on."""
    if s.telegram_webhook_url and not s.telegram_webhook_secret:
        raise ConfigError("FRONTDOOR_TELEGRAM_WEBHOOK_SECRET is empty: a webhook needs a secret so forged updates are refused")
    if s.telegram_webhook_url and not s.telegram_token:
        raise ConfigError("FRONTDOOR_TELEGRAM_WEBHOOK_URL is set but FRONTDOOR_TELEGRAM_TOKEN is empty")
    if s.callback_webhook_url and len(s.callback_webhook_secret) < 16:
        raise ConfigError("FRONTDOOR_CALLBACK_WEBHOOK_SECRET: a signed webhook needs a secret of at least 16 characters")
    if s.smtp_host and not (s.smtp_from and s.smtp_to):
        raise ConfigError("FRONTDOOR_SMTP_FROM and FRONTDOOR_SMTP_TO are needed when FRONTDOOR_SMTP_HOST is set")
    if s.notify_api_key and not (s.notify_callback_token and s.notify_template_id):
        raise ConfigError("FRONTDOOR_NOTIFY_CALLBACK_TOKEN and FRONTDOOR_NOTIFY_TEMPLATE_ID are needed when FRONTDOOR_NOTIFY_API_KEY is set")
    if s.redis_url and s.hash_secret_generated:
        raise ConfigError("FRONTDOOR_HASH_SECRET is empty: replicas sharing Redis must share one hash secret")


def describe() -> str:
    """The configuration table for the README (Markdown)."""
    rows = ["| variable | default | what it does |", "| --- | --- | --- |"]
    for v in VARIABLES:
        default = f"`{v.default}`" if v.default else "(empty)"
        rows.append(f"| `{v.name}` | {default} | {v.help} |")
    return "\n".join(rows)


__all__ = ["ConfigError", "Settings", "VARIABLES", "describe", "load", "fields"]
