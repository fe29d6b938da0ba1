"""Configuration read from the environment, with safe defaults."""

import os
import secrets
from datetime import timedelta
from pathlib import Path


def _secret_key(instance_path: str) -> str:
    """Return SECRET_KEY from the environment, else one generated once into instance/."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _minutes(name: str, default: int) -> timedelta:
    return timedelta(minutes=int(os.environ.get(name, default)))


def request_limit(upload_mb: int) -> int:
    """The largest request body: one file of `upload_mb` MB plus 1 MB for the other fields."""
    return (upload_mb + 1) * 1024 * 1024


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def load(instance_path: str) -> dict:
    """Build the configuration mapping for an app whose instance folder is instance_path."""
    db_file = Path(instance_path) / "waypoint.sqlite"
    jobs_file = Path(instance_path) / "jobs.sqlite"
    secure = os.environ.get("WAYPOINT_HTTPS", "0") == "1"
    upload_mb = int(os.environ.get("MAX_UPLOAD_MB", 10))
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL", f"sqlite:///{db_file}"),
        # Cookies: never readable from JS, not sent cross-site, Secure behind HTTPS.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_DURATION": timedelta(0),
        "PREFERRED_URL_SCHEME": "https" if secure else "http",
        # The CSRF token lives as long as the sign-in session, so it never
        # expires in the middle of a goal conference.
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_SSL_STRICT": secure,
        # Insights: groups smaller than this show "fewer than N" (portal/insights, >= 5).
        "INSIGHTS_MIN_CELL": _int("INSIGHTS_MIN_CELL", 10),
        "IDLE_TIMEOUT_LEARNER": _minutes("IDLE_TIMEOUT_LEARNER", 30),
        "IDLE_TIMEOUT_STAFF": _minutes("IDLE_TIMEOUT_STAFF", 60),
        # Sign-in throttling (portal/auth/services.py, docs/architecture.md "Sign-in").
        # Wrong tries per account in a sliding window before strangers are locked out,
        # 15 s doubling to LOGIN_MAX_LOCK_SECONDS; at most LOGIN_LOCK_BUDGET_SECONDS of
        # lock per account per hour, then at most one stranger's try per LOGIN_SLOW_SECONDS.
        "LOGIN_FREE_ATTEMPTS": _int("LOGIN_FREE_ATTEMPTS", 5),
        "LOGIN_WINDOW": _minutes("LOGIN_WINDOW_MINUTES", 15),
        "LOGIN_MAX_LOCK_SECONDS": _int("LOGIN_MAX_LOCK_SECONDS", 300),
        "LOGIN_LOCK_BUDGET_SECONDS": _int("LOGIN_LOCK_BUDGET_SECONDS", 300),
        "LOGIN_SLOW_SECONDS": _int("LOGIN_SLOW_SECONDS", 30),
        # A browser that signed in to an account keeps a device cookie for it: its holder
        # is not locked out with strangers, only after its own LOGIN_DEVICE_FREE_ATTEMPTS.
        "LOGIN_DEVICE_FREE_ATTEMPTS": _int("LOGIN_DEVICE_FREE_ATTEMPTS", 5),
        "LOGIN_DEVICE_DAYS": _int("LOGIN_DEVICE_DAYS", 30),
        "PENDING_WRITE_HOURS": _int("PENDING_WRITE_HOURS", 12),
        # Learners deactivated this long are listed for deletion (portal/records/retention.py).
        "RECORD_RETENTION_DAYS": _int("RECORD_RETENTION_DAYS", 365),
        "LOGIN_DEVICES_PER_BROWSER": _int("LOGIN_DEVICES_PER_BROWSER", 30),
        # One browser without a device cookie, over all accounts, per window.
        "LOGIN_CLIENT_FREE_ATTEMPTS": _int("LOGIN_CLIENT_FREE_ATTEMPTS", 10),
        # Wrong PINs per class (class code path, without a device cookie) per class window.
        "LOGIN_CLASS_PIN_ATTEMPTS": _int("LOGIN_CLASS_PIN_ATTEMPTS", 30),
        "LOGIN_CLASS_WINDOW": _minutes("LOGIN_CLASS_WINDOW_MINUTES", 10),
        # District sign-in (portal/sso): the key client secrets are encrypted under (a
        # Fernet key; unset: derived from SECRET_KEY), and how long a provider's discovery
        # document and keys are cached per process.
        "SSO_SECRET_KEY": os.environ.get("SSO_SECRET_KEY") or None,
        "SSO_METADATA_TTL": _int("SSO_METADATA_TTL", 3600),
        "SSO_ALLOW_LOOPBACK": os.environ.get("SSO_ALLOW_LOOPBACK", "0") == "1",
        # argon2id parameters; tests lower them to keep the suite fast.
        "ARGON2_TIME_COST": int(os.environ.get("ARGON2_TIME_COST", 3)),
        "ARGON2_MEMORY_KIB": int(os.environ.get("ARGON2_MEMORY_KIB", 65536)),
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER", str(Path(instance_path) / "uploads")),
        # The one upload limit: the form's check and hint, the error messages and the
        # request size the server accepts (the file plus the form's other fields).
        "MAX_UPLOAD_MB": upload_mb,
        "MAX_CONTENT_LENGTH": request_limit(upload_mb),
        # Background jobs (portal/core/jobs.py): the queue is Huey on a SQLite file in the
        # instance folder, or on Redis when JOBS_URL=redis://host:port/db names one.
        "JOBS_URL": os.environ.get("JOBS_URL") or f"sqlite:///{jobs_file}",
        "JOBS_NAME": os.environ.get("JOBS_NAME", "waypoint"),
        "JOBS_WORKERS": _int("JOBS_WORKERS", 2),
        # A running job stamps its row every JOBS_HEARTBEAT_SECONDS; one silent for
        # JOBS_STALE_SECONDS lost its worker and is shown (and recorded) as failed.
        "JOBS_HEARTBEAT_SECONDS": float(os.environ.get("JOBS_HEARTBEAT_SECONDS", 10)),
        "JOBS_STALE_SECONDS": _int("JOBS_STALE_SECONDS", 300),
        "JOBS_PROGRESS_SECONDS": float(os.environ.get("JOBS_PROGRESS_SECONDS", 0.5)),
        # Rostering (portal/rostering/): a bulk file that would deactivate more than this
        # share of a kind of active people needs a second confirmation; sample rows per
        # entity and outcome in a dry run.
        "ROSTER_DEACTIVATION_GUARD": float(os.environ.get("ROSTER_DEACTIVATION_GUARD", 0.10)),
        "ROSTER_SAMPLES": _int("ROSTER_SAMPLES", 10),
        # A OneRoster zip of a large district is far bigger than an evidence photo: the
        # roster upload page alone accepts files up to ROSTER_UPLOAD_MB (kept in
        # UPLOAD_FOLDER/roster under a random name until it is imported).
        "ROSTER_UPLOAD_MB": _int("ROSTER_UPLOAD_MB", 200),
        # Hours an uploaded roster file is kept while its dry run waits for a confirmation.
        "ROSTER_UPLOAD_KEEP_HOURS": _int("ROSTER_UPLOAD_KEEP_HOURS", 72),
        # Year rollover: a teacher still reads (never changes) the records of a class's
        # learners for this many days after the class's term ended.
        "ROSTER_TEACHER_GRACE_DAYS": _int("ROSTER_TEACHER_GRACE_DAYS", 60),
        # A learner's record export (portal/records/): the zip is kept under the instance
        # folder this many hours for its requester, then deleted.
        "RECORD_EXPORT_HOURS": _int("RECORD_EXPORT_HOURS", 24),
        "RECORD_EXPORT_FOLDER": os.environ.get(
            "RECORD_EXPORT_FOLDER", str(Path(instance_path) / "record-exports")
        ),
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("WAYPOINT_TIMEZONE", "America/New_York"),
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parents[1] / "translations"),
        "LANGUAGES": {"en": "English", "es": "Español"},
    }


def engine_options(url: str) -> dict:
    """Optimistic disconnect handling (SQLAlchemy's "Disconnect Handling - Optimistic"): no
    ping before each checkout, which would be one more round trip on every request. A
    connection the server dropped fails its first statement; SQLAlchemy then invalidates
    the whole pool, and a read request is run once more on a fresh connection
    (`portal.core.database`). Connections are also replaced after an hour, before any
    idle-connection timeout between here and the server closes them. An SQLite file
    cannot drop a connection."""
    if url.startswith("sqlite"):
        return {}
    return {"pool_recycle": 3600}
