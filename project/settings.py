"""The one settings module, driven by the environment (see README.md).

With neither DATABASE_URL nor REDIS_URL set the product runs in its embedded default: SQLite,
the in-memory channel layer and a local-memory cache. Setting both switches to the production
shape (PostgreSQL, channels-redis, Redis cache) with no code change.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from project.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

DATABASE_URL = env_str("DATABASE_URL")
REDIS_URL = env_str("REDIS_URL")
# The embedded default: one process holds web, dialer and scheduler (see ARCHITECTURE.md).
EMBEDDED = not DATABASE_URL and not REDIS_URL


def _local_secret_key(var_dir: Path) -> str:
    """A random key made once per installation of the embedded default and kept in var/ (mode 0600)."""
    path = var_dir / "secret_key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    # The production shape must be given its key; a single-machine install makes and keeps its own.
    if not (DEBUG or EMBEDDED):
        raise ImproperlyConfigured("SECRET_KEY must be set when DATABASE_URL/REDIS_URL are used without DEBUG")
    SECRET_KEY = _local_secret_key(VAR_DIR)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "django_htmx",
    "template_partials",
    "axes",
    "accounts",
    "cases",
    "realtime",
    "frontend",
    "dialer",  # issue 5: manage.py run_dialer (the dialer owns no tables)
    # System administration (issue 7): accounts pages, audit viewer, VPN accounts, backups, health.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "ops",
    "assessment",  # issue 8: pre-loan assessment (贷前评估)
    "mappings",  # issue 19: per-bank import mappings (银行文件导入)
    "worklist",  # issue 16: 今日工作, promises to pay, callbacks
    "callerids",  # issue 17: 外显号码池 (caller-ID numbers, caps, rotation, health)
    "performance",  # issue 18: targets, rankings, collector commission (提成)
    "progressive",  # issue 17: 连续外呼 (progressive dialling sessions)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # A NUL byte in a parameter is a clear 400, never a 500 from the database (accounts.inputs).
    "accounts.inputs.RejectNulMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every audit entry made while serving a request carries its IP address and user agent (accounts.origin).
    "accounts.origin.RequestOriginMiddleware",
    # Responses to signed-in users are never cached (personal data): Cache-Control: private, no-store.
    "accounts.middleware.PrivateResponsesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Issue 7: users told to change their password reach only the password page until they do; CSP header.
    "accounts.middleware.ForcePasswordChangeMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns lockouts raised by the backend into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "project.urls"
ASGI_APPLICATION = "asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "frontend" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "frontend.context_processors.navigation",
            ],
        },
    },
]

if DATABASE_URL:
    # No persistent connections: under daphne every request runs in a thread of its own, so CONN_MAX_AGE kept
    # one PostgreSQL connection per finished request until the thread was collected (24 users on 2 web
    # processes: 612 of 960 requests failed with "too many clients"). PostgreSQL gets a bounded pool per
    # process instead (psycopg_pool through Django): a request takes a connection on its first query and gives
    # it back when it ends; past DB_POOL_MAX_SIZE requests wait for one (DB_POOL_TIMEOUT seconds) rather than
    # open more. Size it so web processes × DB_POOL_MAX_SIZE + dialer + scheduler stays below max_connections.
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # No JIT: the product's queries are short (a page, a case), but a query with per-row lookups (the work
        # queue's, bench/work_queue.py) is estimated above jit_above_cost on a large agency, and compiling it
        # took 0.4–0.6 s on this machine for a query that runs in 10–40 ms. DB_JIT=1 turns it back on.
        jit = "on" if env_bool("DB_JIT", False) else "off"
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = f"-c jit={jit}"
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DB_POOL_MIN_SIZE", 2),
            "max_size": env_int("DB_POOL_MAX_SIZE", 10),
            "timeout": env_int("DB_POOL_TIMEOUT", 30),
            # Connections idle this long are closed (the pool keeps min_size).
            "max_idle": env_int("DB_POOL_MAX_IDLE", 300),
        }
else:
    # The embedded database holds every customer's data: only the product's own user may read it (0600 in a
    # 0700 folder), created so before SQLite first opens it (its -wal/-shm files take the same mode).
    VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    VAR_DIR.chmod(0o700)
    os.close(os.open(VAR_DIR / "db.sqlite3", os.O_WRONLY | os.O_CREAT, 0o600))
    (VAR_DIR / "db.sqlite3").chmod(0o600)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            # WAL lets the web requests read while an import writes.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "timeout": 20,
                # Writers take the lock when the transaction begins, so two concurrent writers wait
                # for each other instead of one failing with "database is locked".
                "transaction_mode": "IMMEDIATE",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # A generous socket timeout and pool: idle consumers must not be dropped, and hundreds
                # of clients leaving at once must not exhaust the pool (see ARCHITECTURE.md pitfalls).
                "hosts": [{"address": REDIS_URL, "socket_timeout": 300, "max_connections": 1000}],
                "capacity": 1000,
                "expiry": 60,
                "prefix": env_str("CHANNEL_PREFIX", "asgi"),
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_PREFIX", "cm"),
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
     "OPTIONS": {"user_attributes": ("username", "full_name", "phone")}},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Wrong TOTP tokens are throttled per user and address (accounts.twofactor), not on the device: a device-wide
# throttle let someone holding only the password keep the real user from signing in.
OTP_TOTP_THROTTLE_FACTOR = 0
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "frontend:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Login throttling: five failures for one user name (from any address) or from one address (for any user
# names) lock for 15 minutes. The address is the one our proxy saw, never a client-written header.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "accounts.origin.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 480) * 60
SESSION_SAVE_EVERY_REQUEST = True  # the age above counts from the last request: an idle timeout
# Open websockets look at their session this often besides every client frame, and close once it expired.
REALTIME_SESSION_CHECK_SECONDS = env_int("REALTIME_SESSION_CHECK_SECONDS", 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG and not EMBEDDED)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = False
# zh-hans with "," every three digits where a template asks for grouping (intcomma): see project/formats.
FORMAT_MODULE_PATH = ["project.formats"]

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "frontend" / "static"]
# The embedded default runs without DEBUG and without collectstatic: WhiteNoise serves the source folders.
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", EMBEDDED)
if WHITENOISE_USE_FINDERS:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Uploaded files are private: there is deliberately no MEDIA_URL route; views stream them after a
# permission check.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Stored files (recordings, ID copies, photos) are readable by the product's own user only.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

# Imports: the upload limit for a batch workbook and the row cap of one batch.
IMPORT_MAX_UPLOAD_BYTES = env_int("IMPORT_MAX_UPLOAD_MB", 60) * 1024 * 1024
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 200_000)
# Sum of the uncompressed sizes of the parts of an .xlsx beyond which it is refused as a zip bomb.
IMPORT_MAX_UNCOMPRESSED_BYTES = env_int("IMPORT_MAX_UNCOMPRESSED_MB", 1024) * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20_000

# Case work uploads (P4, P5, P11): per-kind limits, checked on the received size before anything is stored.
UPLOAD_MAX_BYTES_PHOTO = env_int("UPLOAD_MAX_PHOTO_MB", 20) * 1024 * 1024
UPLOAD_MAX_BYTES_PDF = env_int("UPLOAD_MAX_PDF_MB", 30) * 1024 * 1024
UPLOAD_MAX_BYTES_RECORDING = env_int("UPLOAD_MAX_RECORDING_MB", 200) * 1024 * 1024
UPLOAD_MAX_BYTES_DOCUMENT = env_int("UPLOAD_MAX_DOCUMENT_MB", 30) * 1024 * 1024

CASE_LIST_PAGE_SIZE = env_int("CASE_LIST_PAGE_SIZE", 50)
# Counting the rows that match a filter is exact up to this many; beyond it the list says "N+".
CASE_LIST_COUNT_CAP = env_int("CASE_LIST_COUNT_CAP", 10_000)

# A case returned to the bank by mistake can be reopened by its owner clerk or a manager within this many days
# of the return (C9); after that the bank has it back and a new entrustment is a new batch.
RETURN_UNDO_DAYS = env_int("RETURN_UNDO_DAYS", 7)

DEMO_SEED = env_bool("DEMO_SEED", EMBEDDED)

# Reminders scheduler (manage.py run_scheduler): seconds between due checks. In the embedded default it
# runs inside the web process (started with the first websocket); elsewhere run it as its own process.
SCHEDULER_INTERVAL_SECONDS = env_int("SCHEDULER_INTERVAL_SECONDS", 30)
SCHEDULER_EMBEDDED = env_bool("SCHEDULER_EMBEDDED", EMBEDDED)
# Jobs of apps above `cases` that every scheduler tick runs, by dotted path (see run_scheduler).
SCHEDULER_EXTRA_JOBS = env_list("SCHEDULER_EXTRA_JOBS", ["ops.backup.ops_tick", "worklist.actions.worklist_tick"])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "daphne": {"level": "WARNING"}},
}


# --- System administration and hardening (issue 7) ---------------------------------------------------
# Production shape: HTTPS everywhere. On by default when neither DEBUG nor the embedded default is on.
_PRODUCTION = not DEBUG and not EMBEDDED
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _PRODUCTION)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if _PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", _PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", _PRODUCTION)
# The reverse proxy terminates TLS and says so in X-Forwarded-Proto (deploy/nginx.conf).
if env_bool("BEHIND_TLS_PROXY", _PRODUCTION):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^ops/health\.json$"]  # monitoring probes inside the compose network use HTTP
# The client's address: only these peers (our reverse proxy) are believed about whom they forward for; their
# X-Forwarded-For is read from the right (accounts.origin). Behind the proxy: loopback and the private ranges a
# compose network uses; set TRUSTED_PROXIES to the proxy's own addresses (CIDR, comma-separated) to narrow it.
# Served directly (the embedded default), nobody is: the address is the connection's own.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12",
                                                "192.168.0.0/16", "fc00::/7"]
                           if env_bool("BEHIND_TLS_PROXY", _PRODUCTION) else [])

# Content-Security-Policy (django-csp): scripts only from this site or with the per-response nonce
# (`{{ request.csp_nonce }}`); no inline event handlers; images may be data: URIs (2FA QR codes).
# Styles allow 'unsafe-inline' because htmx injects its indicator style and some templates set style="".
from csp.constants import NONCE, NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        # Websockets to this site only: 'self' (CSP 3 lets it match ws/wss of the same host) plus each configured
        # host by name for browsers that read 'self' the older way; never any wss: host.
        "connect-src": [SELF, *(f"{scheme}://{host}:*" for host in ALLOWED_HOSTS
                               if host and host != "*" and not host.startswith(".")
                               for scheme in (("ws", "wss") if DEBUG or EMBEDDED else ("wss",)))],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}
# Enforced in the production shape; report-only in DEBUG and the embedded default so a page's inline script
# that still lacks its nonce shows up in the browser console instead of breaking development.
if env_bool("CSP_REPORT_ONLY", not _PRODUCTION):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = CONTENT_SECURITY_POLICY
    CONTENT_SECURITY_POLICY = None

# Protected downloads: with PROTECTED_DOWNLOADS_ACCEL set the web process answers with X-Accel-Redirect to
# this internal nginx location (deploy/nginx.conf) instead of streaming the file itself.
PROTECTED_DOWNLOADS_ACCEL = env_bool("PROTECTED_DOWNLOADS_ACCEL", False)
PROTECTED_DOWNLOADS_ACCEL_PREFIX = env_str("PROTECTED_DOWNLOADS_ACCEL_PREFIX", "/_protected/")

# VPN account passwords (S2) are encrypted with these Fernet keys, never with SECRET_KEY. The first key
# encrypts; all of them decrypt (rotation: put the new key first, run `manage.py vpn_rotate_key`).
VPN_ENCRYPTION_KEYS = env_list("VPN_ENCRYPTION_KEYS", []) or env_list("VPN_ENCRYPTION_KEY", [])
VPN_EXPIRY_WARN_DAYS = env_int("VPN_EXPIRY_WARN_DAYS", 30)

# Backups (S3): where they go, the optional Fernet key, the daily time (Asia/Shanghai) and retention.
BACKUP_DIR = Path(env_str("BACKUP_DIR", str(VAR_DIR / "backups")))
BACKUP_ENCRYPTION_KEY = env_str("BACKUP_ENCRYPTION_KEY")
BACKUP_ENCRYPT = env_bool("BACKUP_ENCRYPT", bool(BACKUP_ENCRYPTION_KEY))
BACKUP_TIME = env_str("BACKUP_TIME", "02:30")
BACKUP_SCHEDULED = env_bool("BACKUP_SCHEDULED", not EMBEDDED)
BACKUP_KEEP_DAILY = env_int("BACKUP_KEEP_DAILY", 7)
BACKUP_KEEP_WEEKLY = env_int("BACKUP_KEEP_WEEKLY", 4)
BACKUP_KEEP_MONTHLY = env_int("BACKUP_KEEP_MONTHLY", 12)
# Health (S4): the monitoring token of /ops/health.json (Authorization: Bearer <token>), thresholds.
HEALTH_TOKEN = env_str("HEALTH_TOKEN")
HEALTH_BACKUP_MAX_AGE_HOURS = env_int("HEALTH_BACKUP_MAX_AGE_HOURS", 26)
HEALTH_DISK_WARN_PERCENT = env_int("HEALTH_DISK_WARN_PERCENT", 85)
HEALTH_DISK_ERROR_PERCENT = env_int("HEALTH_DISK_ERROR_PERCENT", 95)
# --- end of issue 7 block ----------------------------------------------------------------------------

# --- Dialer (issue 5): Asterisk ARI connection, read only through dialer.config.DialerConfig -------------
# In the embedded default the dialer talks to the ARI simulator (dialer/simulator) on 127.0.0.1:8088.
DIALER_ARI_URL = env_str("DIALER_ARI_URL", "http://127.0.0.1:8088/")
DIALER_ARI_USER = env_str("DIALER_ARI_USER", "asterisk")
DIALER_ARI_PASSWORD = env_str("DIALER_ARI_PASSWORD", "asterisk" if EMBEDDED or DEBUG else "")
DIALER_APP = env_str("DIALER_APP", "collect")  # Stasis app name: the dialplan's Stasis(collect,inbound,${EXTEN})
DIALER_TRUNK = env_str("DIALER_TRUNK", "trunk")  # PJSIP endpoint of the SIP trunk: PJSIP/<number>@<trunk>
DIALER_LINES = env_int("DIALER_LINES", 10)  # outside lines on the trunk: 6, 8 or 10
DIALER_DRAIN_TIMEOUT_SECONDS = env_int("DIALER_DRAIN_TIMEOUT_SECONDS", 120)
DIALER_COLLECTOR_RING_SECONDS = env_int("DIALER_COLLECTOR_RING_SECONDS", 30)
DIALER_CUSTOMER_RING_SECONDS = env_int("DIALER_CUSTOMER_RING_SECONDS", 45)
DIALER_RECONNECT_MAX_SECONDS = env_int("DIALER_RECONNECT_MAX_SECONDS", 30)
# Start the ARI simulator inside the product (embedded default only; never against a real Asterisk).
DIALER_SIMULATOR = env_bool("DIALER_SIMULATOR", EMBEDDED)
# Inbound callers matching no case ring these extensions (comma-separated), first free first.
DIALER_FALLBACK_EXTENSIONS = env_str("DIALER_FALLBACK_EXTENSIONS", "")
# 连续外呼 (issue 17): free lines a progressive session never takes, kept for click-to-call and inbound calls.
DIALER_PROGRESSIVE_RESERVE_LINES = env_int("DIALER_PROGRESSIVE_RESERVE_LINES", 1)
# Run the dialer inside the web process (embedded default only; never in tests or management commands).
DIALER_EMBEDDED = env_bool("DIALER_EMBEDDED", EMBEDDED)
# --- end of dialer block ---------------------------------------------------------------------------------
