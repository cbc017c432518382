"""Encryption at rest for callback requests: Fernet under FRONTDOOR_ENCRYPTION_KEY, with rotation.

Everything a sink needs (number, name, window, choices, channel) is sealed
into one Fernet token; the outbox keeps only that token, the request id and
timestamps in the clear. Keys come newest first: new requests are sealed
under the first, any listed key opens a request, and :meth:`RequestCipher.rotate`
re-seals a token under the newest (the service does that for every waiting
request at start, so an old key can be dropped once the outbox is drained).

In the embedded default (SQLite, not production) with no key set, a key is
generated into the data folder, readable only by this user, and a warning is
logged: the data stays encrypted at rest even on a developer's laptop. A key
file left from such a run is kept as the oldest key when a real key is set
later, so requests sealed under it still go out.

If that key can't be made or read (the data folder read-only, full, or not a
folder), :class:`KeyUnavailable` is raised and the service starts without
callbacks (bot/callbacks/unavailable.py): the bot still gives the number.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot.config import ConfigError, Settings
from bot.conversation.events import CallbackDetails

log = logging.getLogger(__name__)

KEY_FILE = "callback-outbox.key"


class KeyUnavailable(Exception):
    """The key file in the data folder can't be made or read; ``reason`` is the errno name, for the log."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the callback key in the data folder can't be made or read ({reason})")
        self.reason = reason


class UnreadableRequest(Exception):
    """No configured key opens this record (a key was removed too early, or the record is damaged)."""


class RequestCipher:
    """Seals and opens :class:`CallbackDetails` with a :class:`MultiFernet`."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        self._newest = Fernet(keys[0])
        self._all = MultiFernet([Fernet(k) for k in keys])
        self.key_count = len(keys)

    def seal(self, details: CallbackDetails) -> bytes:
        plain = {
            "phone": details.phone,
            "window": details.window,
            "voicemail_ok": details.voicemail_ok,
            "say_who_is_calling": details.say_who_is_calling,
            "channel": details.channel,
            "name": details.name,
        }
        return self._newest.encrypt(json.dumps(plain, separators=(",", ":")).encode())

    def open(self, token: bytes) -> CallbackDetails:
        try:
            plain = json.loads(self._all.decrypt(token))
            return CallbackDetails(
                phone=plain["phone"],
                window=plain["window"],
                voicemail_ok=bool(plain["voicemail_ok"]),
                say_who_is_calling=bool(plain["say_who_is_calling"]),
                channel=plain["channel"],
                name=plain.get("name"),
            )
        except (InvalidToken, ValueError, KeyError, TypeError):
            raise UnreadableRequest("no configured key opens this callback request") from None

    def is_newest(self, token: bytes) -> bool:
        try:
            self._newest.decrypt(token)
            return True
        except InvalidToken:
            return False

    def rotate(self, token: bytes) -> bytes:
        """The same request sealed under the newest key. Raises UnreadableRequest."""
        try:
            return self._all.rotate(token)
        except InvalidToken:
            raise UnreadableRequest("no configured key opens this callback request") from None


def cipher_from_settings(settings: Settings, *, shared_outbox: bool) -> RequestCipher:
    """The cipher for this deployment: configured keys, else a key generated into the data folder.

    Raises :class:`ConfigError` for a malformed key, and for a shared
    (PostgreSQL) outbox with no key: replicas each generating their own key
    could not open one another's requests. Raises :class:`KeyUnavailable` when
    the key file (or the data folder) can't be made or read.
    """
    keys: list[bytes] = []
    for i, raw in enumerate(settings.encryption_keys, start=1):
        try:
            Fernet(raw.encode())
        except (ValueError, TypeError):
            raise ConfigError(
                f"FRONTDOOR_ENCRYPTION_KEY: key {i} is not a Fernet key (32 url-safe base64 bytes, "
                "from `python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`)"
            ) from None
        keys.append(raw.encode())
    key_file = Path(settings.data_dir) / KEY_FILE
    if keys:
        if not shared_outbox and _exists(key_file):
            old = _read_key(key_file)
            if old not in keys:
                keys.append(old)  # oldest: requests sealed under the generated key still open
                log.warning(
                    "a generated callback key is still in the data folder: it is kept as the oldest key; delete it once the outbox is empty",
                    extra={"event": "generated_key_kept"},
                )
        return RequestCipher(keys)
    if settings.env == "production":  # config refuses this already; never generate a key in production
        raise ConfigError("FRONTDOOR_ENCRYPTION_KEY is empty: production needs a Fernet key")
    if shared_outbox:
        raise ConfigError(
            "FRONTDOOR_ENCRYPTION_KEY is empty: a shared PostgreSQL outbox needs one key that every replica has"
        )
    key = generated_key(key_file)
    log.warning(
        "FRONTDOOR_ENCRYPTION_KEY is empty: callback requests are encrypted under a key generated in the data folder (not for production; set a key for real use)",
        extra={"event": "callback_key_generated"},
    )
    return RequestCipher([key])


def generated_key(path: Path) -> bytes:
    """Read the generated key at ``path``, creating it (mode 0600) if it doesn't exist.

    Raises :class:`KeyUnavailable` on any OSError. A key file that was created but
    could not be written (a full disk) is removed, so the next start makes a new
    one instead of finding an empty file.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    except OSError as exc:
        raise KeyUnavailable(_reason(exc)) from None
    key = Fernet.generate_key()
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(key + b"\n")
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        with contextlib.suppress(OSError):
            path.unlink()
        raise KeyUnavailable(_reason(exc)) from None
    return key


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError as exc:
        raise KeyUnavailable(_reason(exc)) from None


def _read_key(path: Path) -> bytes:
    """The key in ``path``; a file that can't be read, or holds no Fernet key (cut short), is unavailable."""
    try:
        key = path.read_bytes().strip()
    except OSError as exc:
        raise KeyUnavailable(_reason(exc)) from None
    try:
        Fernet(key)
    except (ValueError, TypeError):
        raise KeyUnavailable("damaged") from None
    return key


def _reason(exc: OSError) -> str:
    return errno.errorcode.get(exc.errno or 0, type(exc).__name__)
