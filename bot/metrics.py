"""Every Prometheus metric the bot exports, in one place.

Names start with ``frontdoor_``. Labels are small closed sets (channel, reason,
state, kind): never a chat id, phone number, session key or anything a person
wrote. A test reads :data:`REGISTRY` after whole conversations and looks for
canaries.

The metrics live in their own :class:`CollectorRegistry`, not the global one,
so tests can build several apps in one process.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

CHANNELS = ("telegram", "sms", "web", "terminal")

MESSAGES_IN = Counter("frontdoor_messages_in", "Messages received, by channel.", ["channel"], registry=REGISTRY)
MESSAGES_OUT = Counter("frontdoor_messages_out", "Replies sent, by channel.", ["channel"], registry=REGISTRY)
REPLY_LATENCY = Histogram(
    "frontdoor_reply_latency_seconds",
    "Time from a message arriving to its replies being ready, by channel.",
    ["channel"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)
ACTIVE_SESSIONS = Gauge("frontdoor_active_sessions", "Sessions currently open.", registry=REGISTRY)
SESSIONS_ENDED = Counter("frontdoor_sessions_ended", "Sessions ended, by reason (user, idle, optout, blocked, shutdown, quick_exit).", ["reason"], registry=REGISTRY)
URGENT_TRIAGE = Counter("frontdoor_urgent_triage_events", "Messages that got the emergency reply. Counted, never stored against anyone.", registry=REGISTRY)
DEGRADED_REPLIES = Counter("frontdoor_degraded_replies", "Replies given in degraded mode (a store or the engine failed), by cause.", ["cause"], registry=REGISTRY)
CALLBACK_REQUESTS = Counter("frontdoor_callback_requests", "Callback requests by what happened to them (accepted, failed_to_store, delivered, withdrawn).", ["state"], registry=REGISTRY)
CALLBACK_WAITING = Gauge("frontdoor_callback_waiting", "Callback requests in the outbox not yet delivered.", registry=REGISTRY)
CALLBACK_OLDEST_AGE = Gauge("frontdoor_callback_oldest_waiting_seconds", "Age of the oldest callback request not yet delivered (0 when none).", registry=REGISTRY)
SINK_ATTEMPTS = Counter("frontdoor_sink_attempts", "Delivery attempts, by sink.", ["sink"], registry=REGISTRY)
SINK_FAILURES = Counter("frontdoor_sink_failures", "Failed delivery attempts, by sink.", ["sink"], registry=REGISTRY)
WEBHOOK_REJECTIONS = Counter("frontdoor_webhook_rejections", "Inbound requests refused, by endpoint and reason (signature, malformed, too_large, origin, host).", ["endpoint", "reason"], registry=REGISTRY)
RATE_LIMITED = Counter("frontdoor_rate_limited", "Messages refused by the per-sender rate limit, by channel.", ["channel"], registry=REGISTRY)
TELEGRAM_API_ERRORS = Counter("frontdoor_telegram_api_errors", "Telegram Bot API errors, by kind (retry_after, network, bad_request, forbidden, other).", ["kind"], registry=REGISTRY)
TELEGRAM_SHARES = Counter("frontdoor_telegram_shares", "Bot opened from a share link (/start with a payload). No identity is kept.", registry=REGISTRY)
FEEDBACK = Counter("frontdoor_feedback", "Answers to 'was this useful?'.", ["useful"], registry=REGISTRY)
EVENT_LOOP_LAG = Gauge("frontdoor_event_loop_lag_seconds", "How late the event loop ran a timer: the worst sample of the last ~10 seconds.", registry=REGISTRY)
READY = Gauge("frontdoor_ready", "1 when every readiness check is ok (/readyz answers 200), else 0. Set at each /readyz and scrape.", registry=REGISTRY)
READINESS_CHECK = Gauge("frontdoor_readiness_check_ok", "1 when this readiness check is ok, else 0, by check name.", ["check"], registry=REGISTRY)
READINESS_CHECK_DEGRADED = Gauge("frontdoor_readiness_check_degraded", "1 when this readiness check is ok but degraded (a backlog, a callback overdue), by check name.", ["check"], registry=REGISTRY)
