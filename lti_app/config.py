"""Settings read from the environment (12-factor), with embedded defaults for a laptop.

Defaults give a working single-machine install: SQLite and a file cache in ``instance/``, console
mail, Huey on SQLite. Production sets ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL``.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from lti_app.mail import MAIL_BACKENDS

log = logging.getLogger(__name__)

TRUE_VALUES = {"1", "true", "yes", "on"}


def env_flag(name: str, default: bool = False) -> bool:
    """Read a boolean the way operators write them in env files."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in TRUE_VALUES


def load_or_create_secret_key(instance_path: Path) -> str:
    """Keep sessions valid across restarts without ever committing a secret.

    When ``SECRET_KEY`` is unset, a random key is generated once and kept in ``instance/`` with
    owner-only permissions; several workers on one machine share it.
    """
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker won the race; use its key
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    log.warning("SECRET_KEY is not set: generated one and stored it in %s", key_file)
    return key


def optional_env(name: str, key: str, parse: Callable[[str], Any] = str) -> dict[str, Any]:
    """``{key: parse(value)}`` when the variable is set, else nothing: the code's default holds.

    For settings whose default lives next to the code that uses them (one source of truth).
    """
    value = os.environ.get(name)
    return {key: parse(value)} if value not in (None, "") else {}


def engine_options(database_url: str) -> dict[str, Any]:
    """SQLAlchemy engine options: pool sizes, and no server-side prepared statements behind
    PgBouncer in transaction mode (psycopg 3 prepares repeated statements by default, and a
    prepared statement does not follow the client to the next server connection)."""
    if database_url.startswith("sqlite"):
        # A pre-ping guards pooled server connections; for a SQLite file it is a wasted query.
        return {"pool_pre_ping": False}
    options: dict[str, Any] = {
        "pool_pre_ping": True,
        "pool_size": int(os.environ.get("STINT_DB_POOL_SIZE", "5")),
        "max_overflow": int(os.environ.get("STINT_DB_MAX_OVERFLOW", "10")),
    }
    if env_flag("STINT_DB_PGBOUNCER"):
        options["connect_args"] = {"prepare_threshold": None}
    return options


class ConfigError(ValueError):
    """A setting has a value Stint cannot use; raised at startup, before any request."""


def mail_backend(value: str) -> str:
    """The ``MAIL_BACKEND`` named, refusing a typo rather than falling back to the console.

    A silent fallback would write every email, review links included, to the log and send none.
    """
    backend = value.strip().lower()
    if backend not in MAIL_BACKENDS:
        raise ConfigError(
            f"MAIL_BACKEND={value!r} is not a mail backend Stint knows. Use 'smtp' (send through "
            "MAIL_SERVER) or 'console' (write emails to the log, review links masked)."
        )
    return backend


def settings_from_env(instance_path: Path, *, need_secret: bool = True) -> dict[str, Any]:
    """Build the Flask config mapping from environment variables."""
    base_url = os.environ.get("STINT_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    secure = base_url.startswith("https://")
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'stint.sqlite'}"
    if database_url.startswith("postgres://"):  # Heroku-style URLs
        database_url = "postgresql+psycopg://" + database_url[len("postgres://") :]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    redis_url = os.environ.get("REDIS_URL") or None
    return {
        **optional_env("AGS_SENDING_LEASE_SECONDS", "AGS_SENDING_LEASE_SECONDS", float),
        **optional_env("STINT_AGS_CONCURRENCY", "AGS_CONCURRENCY", int),
        **optional_env("STINT_AGS_BATCH", "AGS_BATCH", int),
        **optional_env("STINT_CERTIFICATE_PAGE_SIZE", "STINT_CERTIFICATE_PAGE_SIZE"),
        **optional_env("STINT_VERIFY_RATE_LIMIT", "STINT_VERIFY_RATE_LIMIT"),
        **optional_env("STINT_VERIFY_UPLOAD_RATE_LIMIT", "STINT_VERIFY_UPLOAD_RATE_LIMIT"),
        **optional_env("STINT_REVIEW_RATE_LIMIT", "STINT_REVIEW_RATE_LIMIT"),
        **optional_env("STINT_REVIEW_GUESS_RATE_LIMIT", "STINT_REVIEW_GUESS_RATE_LIMIT"),
        # Two installs sharing one Redis database need different queue names.
        "STINT_QUEUE_NAME": os.environ.get("STINT_QUEUE_NAME", "stint"),
        # /metrics: a bearer token, or (unset) loopback clients only.
        "STINT_METRICS_TOKEN": os.environ.get("STINT_METRICS_TOKEN") or None,
        "SECRET_KEY": os.environ.get("SECRET_KEY")
        or (load_or_create_secret_key(instance_path) if need_secret else ""),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
        "STINT_BASE_URL": base_url,
        "STINT_DEV_PLATFORM": env_flag("STINT_DEV_PLATFORM"),
        "STINT_PROXY_HOPS": int(os.environ.get("STINT_PROXY_HOPS", "0")),
        "REDIS_URL": redis_url,
        "CACHE_DIR": os.environ.get("STINT_CACHE_DIR", str(instance_path / "cache")),
        "UPLOAD_DIR": os.environ.get("STINT_UPLOAD_DIR", str(instance_path / "uploads")),
        "HUEY_SQLITE_PATH": os.environ.get("HUEY_SQLITE_PATH", str(instance_path / "huey.sqlite")),
        "MAIL_BACKEND": mail_backend(os.environ.get("MAIL_BACKEND", "console")),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": env_flag("MAIL_USE_TLS"),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Stint <no-reply@stint.invalid>"),
        "DEV_MAILBOX_DIR": os.environ.get("DEV_MAILBOX_DIR", str(instance_path / "mailbox")),
        "HTTP_TIMEOUT": float(os.environ.get("STINT_HTTP_TIMEOUT", "10")),
        "LTI_CLOCK_LEEWAY": int(os.environ.get("STINT_LTI_LEEWAY", "30")),
        "LTI_JWKS_TTL": int(os.environ.get("STINT_JWKS_TTL", "3600")),
        "LTI_JWKS_LAUNCH_WAIT": float(os.environ.get("STINT_JWKS_LAUNCH_WAIT", "3")),
        "LTI_MAX_ID_TOKEN_BYTES": 64 * 1024,
        "MAX_CONTENT_LENGTH": int(os.environ.get("STINT_MAX_UPLOAD_MB", "25")) * 1024 * 1024
        + 65536,
        # A session lasts hours from its launch, not Flask's 31 days; a new launch renews it.
        "PERMANENT_SESSION_LIFETIME": timedelta(
            hours=float(os.environ.get("STINT_SESSION_HOURS", "8"))
        ),
        # Files a student may attach to one submission, and keep on one deliverable over all
        # its versions (the size of one request is capped by MAX_CONTENT_LENGTH).
        "MAX_FILES_PER_SUBMISSION": int(os.environ.get("STINT_MAX_FILES_PER_SUBMISSION", "20")),
        "MAX_FILES_PER_DELIVERABLE": int(os.environ.get("STINT_MAX_FILES_PER_DELIVERABLE", "100")),
        "SESSION_COOKIE_NAME": "stint_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": secure,
        "SESSION_COOKIE_SAMESITE": "None" if secure else "Lax",
        "SESSION_COOKIE_PARTITIONED": secure,
        "PREFERRED_URL_SCHEME": "https" if secure else "http",
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_SSL_STRICT": False,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
    }
