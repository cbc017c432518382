"""Every Prometheus metric the bot exports, in one place, on a registry of its own.

Names start with ``frontdoor_``. Labels are small closed sets (channel, reason,
state, kind): never a chat id, phone number, session key or anything a person
wrote. A test reads the registry after whole conversations and looks for
canaries.

:class:`Metrics` builds the whole set on one :class:`CollectorRegistry`. The
process's set is :data:`DEFAULT` (what ``/metrics`` serves in production);
:func:`bot.runtime.open_runtime` takes another, so a test can build an app
with a fresh registry and read exact counts, instead of ``>=`` against
counters that every earlier test in the process has moved.

Who counts what, once: the gateway counts every message in and every reply
out, whatever the channel; a channel counts only what never reaches the
gateway (a refused webhook, a share link, a Telegram API error).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

CHANNELS = ("telegram", "sms", "web", "terminal")
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class Metrics:
    """The bot's metrics on ``registry`` (a fresh one when none is given)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        r = self.registry = registry or CollectorRegistry(auto_describe=True)
        self.MESSAGES_IN = Counter("frontdoor_messages_in", "Messages received, by channel.", ["channel"], registry=r)
        self.MESSAGES_OUT = Counter("frontdoor_messages_out", "Replies sent, by channel.", ["channel"], registry=r)
        self.REPLY_LATENCY = Histogram(
            "frontdoor_reply_latency_seconds", "Time from a message arriving to its replies being ready, by channel.", ["channel"], buckets=LATENCY_BUCKETS, registry=r
        )
        self.ACTIVE_SESSIONS = Gauge("frontdoor_active_sessions", "Sessions currently open.", registry=r)
        self.SESSIONS_ENDED = Counter("frontdoor_sessions_ended", "Sessions ended, by reason (user, idle, optout, blocked, shutdown, quick_exit).", ["reason"], registry=r)
        self.URGENT_TRIAGE = Counter("frontdoor_urgent_triage_events", "Messages that got the emergency reply. Counted, never stored against anyone.", registry=r)
        self.DEGRADED_REPLIES = Counter("frontdoor_degraded_replies", "Replies given in degraded mode (a store or the engine failed), by cause.", ["cause"], registry=r)
        self.DUPLICATES = Counter("frontdoor_duplicates", "Messages a provider delivered again (same message id), answered once, by channel.", ["channel"], registry=r)
        self.CALLBACK_REQUESTS = Counter("frontdoor_callback_requests", "Callback requests by what happened to them (accepted, failed_to_store, delivered, withdrawn).", ["state"], registry=r)
        self.CALLBACK_WAITING = Gauge("frontdoor_callback_waiting", "Callback requests in the outbox not yet delivered.", registry=r)
        self.CALLBACK_OLDEST_AGE = Gauge("frontdoor_callback_oldest_waiting_seconds", "Age of the oldest callback request not yet delivered (0 when none).", registry=r)
        self.SINK_ATTEMPTS = Counter("frontdoor_sink_attempts", "Delivery attempts, by sink.", ["sink"], registry=r)
        self.SINK_FAILURES = Counter("frontdoor_sink_failures", "Failed delivery attempts, by sink.", ["sink"], registry=r)
        self.WEBHOOK_REJECTIONS = Counter(
            "frontdoor_webhook_rejections", "Inbound requests refused, by endpoint and reason (signature, malformed, too_large, origin, rate, host).", ["endpoint", "reason"], registry=r
        )
        self.RATE_LIMITED = Counter("frontdoor_rate_limited", "Messages refused by the per-sender rate limit, by channel.", ["channel"], registry=r)
        self.TELEGRAM_API_ERRORS = Counter("frontdoor_telegram_api_errors", "Telegram Bot API errors, by kind (retry_after, network, bad_request, forbidden, other).", ["kind"], registry=r)
        self.TELEGRAM_SHARES = Counter("frontdoor_telegram_shares", "Bot opened from a share link (/start with a payload). No identity is kept.", registry=r)
        self.FEEDBACK = Counter("frontdoor_feedback", "Answers to 'was this useful?'.", ["useful"], registry=r)
        self.EVENT_LOOP_LAG = Gauge("frontdoor_event_loop_lag_seconds", "How late the event loop ran a timer: the worst sample of the last ~10 seconds.", registry=r)
        self.READY = Gauge("frontdoor_ready", "1 when every readiness check is ok (/readyz answers 200), else 0. Set at each /readyz and scrape.", registry=r)
        self.READINESS_CHECK = Gauge("frontdoor_readiness_check_ok", "1 when this readiness check is ok, else 0, by check name.", ["check"], registry=r)
        self.READINESS_CHECK_DEGRADED = Gauge(
            "frontdoor_readiness_check_degraded", "1 when this readiness check is ok but degraded (a backlog, a callback overdue), by check name.", ["check"], registry=r
        )

    def value(self, name: str, **labels: str) -> float:
        """The sum of a sample over every label set matching ``labels`` (tests and probes)."""
        total = 0.0
        for family in self.registry.collect():
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    total += sample.value
        return total


DEFAULT = Metrics()
REGISTRY = DEFAULT.registry
