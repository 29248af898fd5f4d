"""Settings for every deployment, read from the environment.

Embedded defaults (no variable set) run on one laptop: SQLite and media under var/, e-mail
written to var/mail/, the task worker as a second process. Scale-out sets DATABASE_URL,
REDIS_URL, EMAIL_URL, HTTPS and friends; the code is the same.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from config.storage import s3_storage

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_from_var(name: str, make: str) -> str:
    """A secret kept in var/ so an embedded install survives restarts without committing it."""
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(make)
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env.bool("DEBUG", default=False)
HTTPS = env.bool("HTTPS", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="") or _secret_from_var(
    "secret_key", secrets.token_urlsafe(64)
)
# Keys the pseudonyms that replace a person in records kept after erasure; never rotated.
PSEUDONYM_SECRET = env.str("PSEUDONYM_SECRET", default="") or _secret_from_var(
    "pseudonym_secret", secrets.token_urlsafe(48)
)
# Envelope encryption of personal fields: "id:base64key,id:base64key", the first one wraps new keys.
DATA_MASTER_KEYS = env.str("DATA_MASTER_KEYS", default="") or _secret_from_var(
    "data_master_keys", f"k1:{secrets.token_urlsafe(32)}"
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Where links in e-mails sent outside a request (jobs, staff actions) point.
SITE_URL = env.str("SITE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}")
EMBEDDED = not env.str("DATABASE_URL", default="")
# The operator (controller of personal data): the company that runs the service and grants the
# licences, as its documents (licence agreements, invoices), the published policy texts and the
# records of processing name it; read through core/operator.py. A deployment sets the OPERATOR_*
# and DPO_* variables; the embedded demo (OPERATOR_DEMONSTRATION) fills the registration numbers,
# representative and officer with fictional details, marked as a demonstration.
OPERATOR_DEMONSTRATION = env.bool("OPERATOR_DEMONSTRATION", default=EMBEDDED)
OPERATOR_DETAILS = {
    "en": {
        "name": env.str("OPERATOR_NAME_EN", default="MUSWAY STUDIO Limited Liability Company"),
        "address": env.str(
            "OPERATOR_ADDRESS_EN", default="office 12, 7 Muzykalny proezd, Moscow 125009, Russia"
        ),
    },
    "ru": {
        "name": env.str(
            "OPERATOR_NAME_RU", default="Общество с ограниченной ответственностью «Мьюзвей Студио»"
        ),
        "address": env.str(
            "OPERATOR_ADDRESS_RU",
            default="125009, Россия, Москва, Музыкальный проезд, д. 7, офис 12",
        ),
    },
    # OGRN and INN as licence agreements print them; empty until the company fills them in.
    "registration": env.str("OPERATOR_REGISTRATION", default=""),
    "ogrn": env.str("OPERATOR_OGRN", default=""),
    "inn": env.str("OPERATOR_INN", default=""),
    # The entry in Roskomnadzor's register of personal-data operators (152-FZ art. 22).
    "rkn_register_number": env.str("OPERATOR_RKN_REGISTER_NUMBER", default=""),
    # The representative in the European Union (GDPR art. 27): name and address.
    "representative": env.str("OPERATOR_REPRESENTATIVE", default=""),
    # The person responsible for the processing of personal data (152-FZ art. 22.1; the DPO).
    "dpo_name": env.str("DPO_NAME", default=""),
    "dpo_email": env.str("DPO_EMAIL", default=""),
    "dpo_phone": env.str("DPO_PHONE", default=""),
    # When the processing started (ISO date), as notified to the authority.
    "processing_started": env.str("OPERATOR_PROCESSING_STARTED", default=""),
    # The day the service started (ISO date): no data-subject request is received before it.
    "service_started_on": env.str("OPERATOR_SERVICE_STARTED_ON", default=""),
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # /sitemap.xml (config/sitemaps.py): its view and template.
    "django.contrib.sitemaps",
    "django_countries",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "axes",
    "django_tasks",
    "django_tasks_db",
    # Serves /api/docs from django-ninja's own static Swagger UI files and init script (no CDN,
    # no inline script); without it ninja falls back to a CDN template our CSP blocks.
    "ninja",
    # Providers' tracking webhooks (bounces, complaints) for newsletters (mailing/webhooks.py).
    "anymail",
    "backgroundmusic.core",
    "backgroundmusic.audit",
    "backgroundmusic.privacy",
    "backgroundmusic.accounts",
    "backgroundmusic.catalog",
    "backgroundmusic.media",
    "backgroundmusic.licensing",
    "backgroundmusic.library",
    "backgroundmusic.api",
    "backgroundmusic.analytics",
    "backgroundmusic.mailing",
    "backgroundmusic.inbox",
    "backgroundmusic.incidents",
]

MIDDLEWARE = [
    # Times every request for /metrics, the beacon and static files too (core/metrics.py).
    "backgroundmusic.core.metrics.RequestMetricsMiddleware",
    # The request id of every log line, from nginx's X-Request-ID or made here (core/logging.py).
    "backgroundmusic.core.logging.RequestIdMiddleware",
    # REMOTE_ADDR becomes the client's address behind PROXY_COUNT proxies (core/middleware.py)
    # before anything reads it (the beacon, sign-in records, axes, allauth, the rate limits);
    # after the request id, which its warning then carries.
    "backgroundmusic.core.middleware.ForwardedClientMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Answers the analytics beacon POST /a/e itself, before sessions and CSRF (analytics/views.py)
    "backgroundmusic.analytics.middleware.AnalyticsBeaconMiddleware",
    # Refuses a path, header, query or form value that could not be stored (core/middleware.py)
    "backgroundmusic.core.middleware.TextEdgeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Records Sec-GPC from signed-in people (privacy/consents.py); needs request.user.
    "backgroundmusic.privacy.middleware_consent.PrivacySignalsMiddleware",
    # Sets or deletes the bm_aid cookie as the visitor's analytics consent says.
    "backgroundmusic.analytics.middleware.AnalyticsIdentityMiddleware",
    "backgroundmusic.privacy.middleware.DataKeyCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "backgroundmusic.accounts.middleware.StaffTwoFactorMiddleware",
    # Writes a staff.denied audit row for each 403 on a /staff/ page (audit/middleware.py).
    "backgroundmusic.audit.middleware.StaffDeniedAuditMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Requests under these paths are refused by TextEdgeMiddleware in the API's JSON error envelope.
JSON_ERROR_PATH_PREFIXES = ["/api/"]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "backgroundmusic" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                # The notice of a new policy edition (privacy/_policy_notice.html in base.html).
                "backgroundmusic.privacy.policies_context.policy_notice",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the task worker use one file side by side.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Tests get a file too: Django's default in-memory test database runs in shared-cache mode,
    # where two connections at once (a live server's threads) fail with "table is locked" at
    # once instead of waiting out the timeout above.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Analytics events go to their own alias when ANALYTICS_DATABASE_URL is set, else to "default"
# (analytics/routers.py).
ANALYTICS_DATABASE_URL = env.str("ANALYTICS_DATABASE_URL", default="")
if ANALYTICS_DATABASE_URL:
    DATABASES["analytics"] = env.db_url("ANALYTICS_DATABASE_URL")
    DATABASES["analytics"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    ANALYTICS_DB_ALIAS = "analytics"
else:
    ANALYTICS_DB_ALIAS = "default"
# The key store: the wrapped data keys and the erasure ledger, apart from the main database so
# that no backup of it holds a key (privacy/kernel/routers.py, decision 0036). Embedded: a SQLite
# file beside the database; scale-out: KEYS_DATABASE_URL, a PostgreSQL database of its own.
KEYS_DB_ALIAS = "keys"
KEYS_DATABASE_URL = env.str("KEYS_DATABASE_URL", default="")
if KEYS_DATABASE_URL:
    DATABASES[KEYS_DB_ALIAS] = env.db_url("KEYS_DATABASE_URL")
    DATABASES[KEYS_DB_ALIAS].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES[KEYS_DB_ALIAS]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES[KEYS_DB_ALIAS] = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(VAR_DIR / "keys.sqlite3"),
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
        "TEST": {"NAME": str(VAR_DIR / "test-keys.sqlite3")},
    }
DATABASE_ROUTERS = [
    "backgroundmusic.privacy.kernel.routers.KeyStoreRouter",
    "backgroundmusic.analytics.routers.AnalyticsRouter",
]
# Backups (manage.py backup / restore, privacy/backups.py): where they are written, and how long
# one may be kept and restored. The erasure ledger keeps its entries as long, so a restore can
# always replay every erasure made since its backup was taken.
BACKUP_DIR = Path(env.str("BACKUP_DIR", default=str(VAR_DIR / "backups")))
BACKUP_MAX_AGE_DAYS = env.int("BACKUP_MAX_AGE_DAYS", default=35)
# Events are written by a thread when a batch of this size waits, or every
# ANALYTICS_FLUSH_SECONDS (0: no thread, only at exit; the tests flush themselves).
ANALYTICS_BATCH_SIZE = env.int("ANALYTICS_BATCH_SIZE", default=500)
ANALYTICS_FLUSH_SECONDS = env.float("ANALYTICS_FLUSH_SECONDS", default=1.0)
# Events a process holds at most while its writes fail (about 1 KB each); beacons beyond it are
# refused with 503 and their events counted as dropped (analytics/buffer.py).
ANALYTICS_MAX_BACKLOG = env.int("ANALYTICS_MAX_BACKLOG", default=50_000)
# Query parameters kept in stored page paths (the catalogue's facets, sort and page; never the
# free-text search).
ANALYTICS_ALLOWED_QUERY_PARAMS = ["genre", "mood", "instrument", "sort", "page"]
# A header a trusted proxy sets to the visitor's country (e.g. CF-IPCountry); "" = none.
ANALYTICS_COUNTRY_HEADER = env.str("ANALYTICS_COUNTRY_HEADER", default="")

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
else:
    # File cache: shared by the app server and the worker on one machine, no extra server; its
    # counters are atomic across the processes (core/cache.py).
    CACHES = {
        "default": {
            "BACKEND": "backgroundmusic.core.cache.LockedFileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

# Prometheus metrics at /metrics (core/metrics.py, decision 0042): answered only to a scraper
# sending "Authorization: Bearer <METRICS_TOKEN>"; without a token set, /metrics answers 404.
# Several processes (gunicorn's workers, task workers) add up their counts through the directory
# PROMETHEUS_MULTIPROC_DIR names, read by prometheus_client itself (docs/operations.md "Metrics").
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 32 characters long.")

# Reverse proxies of ours in front of the app servers, each appending the address it saw to
# X-Forwarded-For (nginx alone: 1). ForwardedClientMiddleware puts the client's address, as the
# outermost saw it, into REMOTE_ADDR; 0 reads no header at all (docs/operations.md "Scale-out").
PROXY_COUNT = env.int("PROXY_COUNT", default=0)
if PROXY_COUNT < 0:
    raise ImproperlyConfigured("PROXY_COUNT must be 0 or more.")

# Rate limits (core/ratelimits.py, decision 0014) in django-ratelimit's syntax, "count/period"
# with period s, m, h or d (e.g. "60/10m"), each counted per signed-in person and per truncated
# address; chosen so that a person using the site never meets them.
RATE_LIMITS = {
    # Asking for a data export (the privacy center's button): each builds an archive and sends
    # an e-mail.
    "data_export": {"person": "3/h", "address": "10/h"},
    # Asking for the newsletter in the privacy center ("Give", "Send again"): each e-mails a
    # confirmation link to the person's own address.
    "consent_confirmation": {"person": "5/h", "address": "20/h"},
    # The public request form and its "Send a new code" (/privacy/request/): each e-mails a
    # one-time code to the typed address; counted per typed e-mail address (its keyed digest)
    # and per network address.
    "request_code": {"email": "3/h", "address": "10/h"},
    # Every call of the JSON API (/api/...); the documentation page and the schema are not counted.
    "api": {"person": "300/m", "address": "300/m"},
    # Opening a public profile (/u/<username>/), existing or not: it names people.
    "public_profile": {"person": "60/10m", "address": "120/10m"},
    # Checking a licence certificate (/verify/<id>/), existing or not: an inspector or a
    # platform checks a few; trying ids by the thousand is stopped.
    "certificate_verify": {"person": "60/10m", "address": "60/10m"},
    # Payment providers' webhooks (/payments/<provider>/notifications): one per payment event
    # from the provider's few addresses; each costs a call back to it.
    "payment_notifications": {"address": "1200/m"},
}

# Jobs (docs/operations.md "Task queue", decision 0040): TASKS_BACKEND=database keeps them as
# rows of the default database, committed with the change that causes them; TASKS_BACKEND=rq
# keeps them in Redis (TASKS_REDIS_URL, else REDIS_URL), pushed when that change commits.
TASKS_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "backgroundmusic.core.task_backends.RQBackend",
}
TASKS_BACKEND = env.str("TASKS_BACKEND", default="database")
if TASKS_BACKEND not in TASKS_BACKENDS:
    raise ImproperlyConfigured(
        f"TASKS_BACKEND={TASKS_BACKEND!r}: it is one of {', '.join(TASKS_BACKENDS)}"
    )
TASKS = {"default": {"BACKEND": TASKS_BACKENDS[TASKS_BACKEND], "QUEUES": ["default"]}}
TASKS_REDIS_URL = env.str("TASKS_REDIS_URL", default="") or REDIS_URL
if TASKS_BACKEND == "rq":
    if not TASKS_REDIS_URL:
        raise ImproperlyConfigured("TASKS_BACKEND=rq needs TASKS_REDIS_URL or REDIS_URL")
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    RQ_QUEUES = {"default": {"URL": TASKS_REDIS_URL}}
# A worker silent this long is taken for dead and its running job is run again, at most
# TASKS_RERUNS times (core/task_workers.py); its heartbeat comes four times as often.
TASKS_WORKER_LOST_AFTER = env.int("TASKS_WORKER_LOST_AFTER", default=120)
TASKS_RERUNS = 3
# On Redis, a job committed this many seconds ago and still in the outbox was not pushed after
# its commit (Redis down, the process died): a worker pushes it (core/task_backends.py).
TASKS_OUTBOX_GRACE = env.int("TASKS_OUTBOX_GRACE", default=60)

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:profile"

ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if HTTPS else "http"
ACCOUNT_ADAPTER = "backgroundmusic.accounts.adapter.AccountAdapter"
# Account mails are signed by the service, not by the request's host (no sites framework).
SERVICE_NAME = "BACKGROUND MUSIC"
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"{SERVICE_NAME}: "
# The required "I accept the user agreement and have read the privacy policy" box at sign-up.
ACCOUNT_SIGNUP_FORM_CLASS = "backgroundmusic.privacy.forms.SignupAgreementForm"
# allauth's forms with the text rules of core/text.py (accounts/allauth_forms.py); sign-up costs
# the same work for a registered address as for a new one (accounts/signup.py).
ACCOUNT_FORMS = {
    "signup": "backgroundmusic.accounts.signup.SignupForm",
    **{
        name: f"backgroundmusic.accounts.allauth_forms.{form}"
        for name, form in [
            ("login", "LoginForm"),
            ("add_email", "AddEmailForm"),
            ("change_email", "ChangeEmailForm"),
            ("change_password", "ChangePasswordForm"),
            ("set_password", "SetPasswordForm"),
            ("reset_password", "ResetPasswordForm"),
            ("reset_password_from_key", "ResetPasswordKeyForm"),
            ("reauthenticate", "ReauthenticateForm"),
        ]
    },
}
MFA_FORMS = {
    "authenticate": "backgroundmusic.accounts.allauth_forms.MfaAuthenticateForm",
    "reauthenticate": "backgroundmusic.accounts.allauth_forms.MfaReauthenticateForm",
    "activate_totp": "backgroundmusic.accounts.allauth_forms.ActivateTOTPForm",
}
ACCOUNT_USERNAME_MIN_LENGTH = 3
ACCOUNT_USERNAME_BLACKLIST = ["admin", "staff", "root", "support", "privacy", "api"]
# django-axes owns per-account lockout (429 after AXES_FAILURE_LIMIT); allauth's own limit on failed
# logins stays as a looser per-IP and per-login guard behind it, so the lockout answers first.
ACCOUNT_RATE_LIMITS = {"login_failed": "20/m/ip,20/5m/key"}
# allauth's rate limits and sessions read REMOTE_ADDR, already the client's
# (ForwardedClientMiddleware): a proxy count here would take an entry further left, which the
# client wrote, and allauth answers a shorter X-Forwarded-For than its count with a 500.
ALLAUTH_TRUSTED_PROXY_COUNT = 0
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = None
MFA_ADAPTER = "backgroundmusic.accounts.adapter.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = SERVICE_NAME
USERSESSIONS_TRACK_ACTIVITY = True

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 1  # hours
# "username" is the account whenever the typed login names one (accounts/lockout.py), so the
# counter is per account and address, whatever identifier is typed. Not per account alone:
# usernames are public, and a stranger could then lock anyone out for an hour with five guesses;
# allauth's login_failed limit above bounds guesses per login across addresses (decision 0013).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "backgroundmusic.accounts.lockout.lockout_username"
AXES_HANDLER = "backgroundmusic.accounts.lockout.AccountKeyedAxesHandler"
AXES_HTTP_RESPONSE_CODE = 429
AXES_RESET_ON_SUCCESS = True
AXES_SENSITIVE_PARAMETERS = ["password", "password1", "password2", "login", "username", "email"]
# REMOTE_ADDR as ForwardedClientMiddleware left it, already the client's: counting the proxies
# again here (ipware's AXES_IPWARE_PROXY_COUNT) would take an address the client wrote.
AXES_CLIENT_IP_CALLABLE = "backgroundmusic.core.request_info.client_ip"
AXES_LOCKOUT_TEMPLATE = "account/lockout.html"
AXES_VERBOSE = False

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="filemail://")
vars().update(EMAIL_CONFIG)
if EMAIL_CONFIG["EMAIL_BACKEND"].endswith("filebased.EmailBackend"):
    # django-environ drops the leading "/" of filemail:///abs/path; an empty path means var/mail.
    _mail_path = EMAIL_CONFIG.get("EMAIL_FILE_PATH") or ""
    EMAIL_FILE_PATH = "/" + _mail_path.lstrip("/") if _mail_path else str(VAR_DIR / "mail")
# Text messages (backgroundmusic/core/sms.py): one file per message under var/sms/ by default.
SMS_BACKEND = env.str("SMS_BACKEND", default="backgroundmusic.core.sms.FileSmsBackend")
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(VAR_DIR / "sms"))
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="BACKGROUND MUSIC <noreply@backgroundmusic.local>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Newsletters (backgroundmusic/mailing/): their own From, and their own envelope sender
# (Return-Path), where bounces arrive; transactional mail keeps DEFAULT_FROM_EMAIL for both.
MARKETING_FROM_EMAIL = env.str(
    "MARKETING_FROM_EMAIL", default="BACKGROUND MUSIC <news@backgroundmusic.local>"
)
# How many letters about an incident one job sends over one connection (incidents/letters.py).
INCIDENT_LETTER_BATCH_SIZE = env.int("INCIDENT_LETTER_BATCH_SIZE", default=200)
# How many messages one batch job claims and sends over one connection.
MAILING_BATCH_SIZE = env.int("MAILING_BATCH_SIZE", default=200)
# A batch's claim on its messages lasts this long; the messages of a batch killed midway are
# taken again after it (mailing/sending.py). Longer than any batch takes to send.
MAILING_CLAIM_SECONDS = env.int("MAILING_CLAIM_SECONDS", default=900)
# django-anymail, when EMAIL_URL is not enough: EMAIL_BACKEND names an ESP backend
# (e.g. "anymail.backends.postmark.EmailBackend") and ANYMAIL_* variables its settings; its
# webhooks under /anymail/ (tracking: bounces and complaints; inbound: letters to the service)
# check ANYMAIL_WEBHOOK_SECRET ("user:password").
# A backend that sends over the network is wrapped by core/mail.py's GuardedEmailBackend, which
# refuses a server not declared in OUTBOUND_DESTINATIONS (decision 0031).
EMAIL_DELIVERY_BACKEND = env.str("EMAIL_BACKEND", default=EMAIL_CONFIG["EMAIL_BACKEND"])
LOCAL_EMAIL_BACKENDS = {
    f"django.core.mail.backends.{name}.EmailBackend"
    for name in ("filebased", "locmem", "console", "dummy")
}
EMAIL_BACKEND = (
    EMAIL_DELIVERY_BACKEND
    if EMAIL_DELIVERY_BACKEND in LOCAL_EMAIL_BACKENDS
    else "backgroundmusic.core.mail.GuardedEmailBackend"
)
ANYMAIL = {
    key.removeprefix("ANYMAIL_"): value
    for key, value in os.environ.items()
    if key.startswith("ANYMAIL_") and value
}

# The service's own mailboxes (backgroundmusic/inbox/): letters to the privacy address become
# data-subject requests, to the unsubscribe address (the mailto of List-Unsubscribe) withdraw the
# newsletter consent (it is also the mailto of every newsletter's List-Unsubscribe, RFC 2369), and
# delivery reports come back to the bounce address (the newsletters' envelope sender).
PRIVACY_ADDRESS = env.str("PRIVACY_ADDRESS", default="privacy@backgroundmusic.net")
UNSUBSCRIBE_ADDRESS = env.str("UNSUBSCRIBE_ADDRESS", default="unsubscribe@backgroundmusic.net")
BOUNCE_ADDRESS = env.str("BOUNCE_ADDRESS", default="bounces@backgroundmusic.net")
# Where those letters are read: "maildir" (a local folder, the embedded default), "imap"
# (INBOX_IMAP_URL, e.g. imaps://user:password@mail.example.com:993/INBOX) or "webhook" (a
# provider posts each letter to /anymail/<provider>/inbound/). docs/operations.md.
INBOX_READER = env.str("INBOX_READER", default="maildir")
INBOX_MAILDIR = Path(env.str("INBOX_MAILDIR", default=str(VAR_DIR / "inbox")))
INBOX_IMAP_URL = env.str("INBOX_IMAP_URL", default="")
# A longer letter is recorded as rejected without being read (the start of it is kept).
INBOX_MAX_MESSAGE_BYTES = env.int("INBOX_MAX_MESSAGE_BYTES", default=2 * 1024 * 1024)
# How long the link confirming a request by e-mail works.
INBOX_CONFIRMATION_MAX_AGE = timedelta(days=7)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ru", "Русский")]
LOCALE_PATHS = [BASE_DIR / "backgroundmusic" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "backgroundmusic" / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
# Uploaded and generated files: MEDIA_ROOT on local disk, or a bucket of S3-compatible storage
# when S3_BUCKET is set (decision 0012).
S3_BUCKET = env.str("S3_BUCKET", default="")
STORAGES = {
    "default": s3_storage(
        bucket=S3_BUCKET,
        endpoint_url=env.str("S3_ENDPOINT_URL", default=""),
        region=env.str("S3_REGION", default=""),
        access_key=env.str("S3_ACCESS_KEY_ID", default=""),
        secret_key=env.str("S3_SECRET_ACCESS_KEY", default=""),
        addressing_style=env.str("S3_ADDRESSING_STYLE", default="path"),
    )
    if S3_BUCKET
    else {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Ingest (media/pipeline.py, media/services.py; decision 0007)
# Masters larger or longer than this are refused with a clear reason before anything is stored.
MEDIA_MAX_MASTER_BYTES = env.int("MEDIA_MAX_MASTER_BYTES", default=2 * 1024**3)
MEDIA_MAX_MASTER_SECONDS = env.int("MEDIA_MAX_MASTER_SECONDS", default=30 * 60)

# Streaming (media/streaming.py, media/views.py; decision 0008)
# Set behind nginx (deploy/nginx/backgroundmusic.conf), e.g. "/protected-media/": the stream view
# then checks the signed URL and answers with X-Accel-Redirect to this internal location plus the
# storage key, and nginx sends the bytes. Empty: the app serves the bytes and ranges itself.
MEDIA_ACCEL_REDIRECT_PREFIX = env.str("MEDIA_ACCEL_REDIRECT_PREFIX", default="")
# Set behind nginx (deploy/nginx/secure-media.conf; decision 0041): the streamed renditions' URLs
# become /audio/<key>?e=<expires>&s=<signature>, which nginx checks and serves itself; the same
# secret is in nginx's config. Not the SECRET_KEY (`check --deploy`: media.E001-E004). The
# lifetime bounds how long a URL outlives the licence it was issued under.
MEDIA_SECURE_LINK_SECRET = env.str("MEDIA_SECURE_LINK_SECRET", default="")
MEDIA_SECURE_LINK_SECONDS = env.int("MEDIA_SECURE_LINK_SECONDS", default=600)

# Payments (licensing/payments/). Bank transfer is always offered; cards through YooKassa once
# its shop id and secret key are set (the key only ever from the environment).
YOOKASSA_SHOP_ID = env.str("YOOKASSA_SHOP_ID", default="")
YOOKASSA_SECRET_KEY = env.str("YOOKASSA_SECRET_KEY", default="")
YOOKASSA_API_URL = env.str("YOOKASSA_API_URL", default="https://api.yookassa.ru/v3")
# Connect and read timeout of each call; past it the call raises ProviderUnavailable.
YOOKASSA_TIMEOUT_SECONDS = env.float("YOOKASSA_TIMEOUT_SECONDS", default=10.0)
PAYMENT_PROVIDERS = ["bank_transfer"] + (
    ["yookassa"] if YOOKASSA_SHOP_ID and YOOKASSA_SECRET_KEY else []
)
# Where YooKassa's payment page (each payment's confirmation_url) is. Checkout's form is answered
# with a redirect there, and browsers apply the CSP's form-action to that redirect too.
YOOKASSA_PAYMENT_PAGE_ORIGIN = env.str(
    "YOOKASSA_PAYMENT_PAGE_ORIGIN", default="https://yoomoney.ru"
)
PAYMENT_PAGE_ORIGINS = [YOOKASSA_PAYMENT_PAGE_ORIGIN] if "yookassa" in PAYMENT_PROVIDERS else []
# The licensing class that reads stored bank transfers for the provider (a TransferBook).
PAYMENT_TRANSFER_BOOK = "backgroundmusic.licensing.billing.StoredTransfers"
# Where buyers send a bank transfer, printed on invoices and the order page; empty until the
# operator's bank account is set in the environment.
OPERATOR_BANK_DETAILS = {
    "tax_id": env.str("OPERATOR_INN", default=""),
    "tax_registration_code": env.str("OPERATOR_KPP", default=""),
    "bank_name": env.str("OPERATOR_BANK_NAME", default=""),
    "bank_bic": env.str("OPERATOR_BANK_BIC", default=""),
    "bank_account": env.str("OPERATOR_BANK_ACCOUNT", default=""),
    "correspondent_account": env.str("OPERATOR_BANK_CORRESPONDENT_ACCOUNT", default=""),
}

# Borders (backgroundmusic/core/destinations.py, decision 0031, docs/operations.md "Borders").
# The country whose law binds the operator: a store or a recipient elsewhere is abroad.
OPERATOR_COUNTRY = "RU"
# Where this machine runs: the country of what it keeps on its own disks (SQLite, local media,
# the file cache, var/). The embedded install declares Russia; a deployment says where it runs.
SERVER_COUNTRY = env.str("SERVER_COUNTRY", default=OPERATOR_COUNTRY if EMBEDDED else "").upper()
_on_this_machine = {
    "default database": DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3",
    "media storage": not S3_BUCKET,
    "cache": not REDIS_URL,
}
# Every place the service keeps data, with its country (ISO 3166-1 alpha-2). A primary store
# records and accumulates personal data; `manage.py check --deploy` refuses one outside
# OPERATOR_COUNTRY. A store on another machine declares its own country (no default).
DATA_STORES = {
    "default database": {
        "country": env.str("DATABASE_COUNTRY", default="")
        or (SERVER_COUNTRY if _on_this_machine["default database"] else ""),
        "primary": True,
        "description": "accounts, profiles, consents, orders, licences, requests",
    },
    **(
        {
            "analytics database": {
                "country": env.str("ANALYTICS_DATABASE_COUNTRY", default=""),
                "primary": True,
                "description": "page views and engaged time under pseudonymous ids",
            }
        }
        if ANALYTICS_DATABASE_URL
        else {}
    ),
    "media storage": {
        "country": env.str("MEDIA_COUNTRY", default="")
        or (SERVER_COUNTRY if _on_this_machine["media storage"] else ""),
        "primary": True,
        "description": "uploaded masters, renditions, data exports, certificates",
    },
    "cache": {
        "country": env.str("CACHE_COUNTRY", default="")
        or (SERVER_COUNTRY if _on_this_machine["cache"] else ""),
        # With Redis the sessions live there alone; otherwise it holds copies and counters.
        "primary": bool(REDIS_URL),
        "description": "sessions (with Redis), rate-limit counters, cached values",
    },
    **(
        {
            "task queue": {
                "country": env.str("TASKS_QUEUE_COUNTRY", default="")
                or (env.str("CACHE_COUNTRY", default="") if TASKS_REDIS_URL == REDIS_URL else ""),
                # Copies: the ids and sealed values the jobs take, as the job rows would.
                "primary": False,
                "description": "queued jobs, and finished ones for 14 days (Redis)",
            }
        }
        if TASKS_BACKEND == "rq"
        else {}
    ),
    "files under var/": {
        "country": SERVER_COUNTRY,
        "primary": True,
        "description": "mail and text-message copies, the inbox Maildir, secrets",
    },
}
# Every host the service connects to, one mapping each: host, port (omitted: any), purpose
# (mail, storage, payments, mailbox), recipient (its name on the privacy register), country and
# basis. The clients refuse any other (core/destinations.py). Given as JSON in the variable
# OUTBOUND_DESTINATIONS; YooKassa's own API is declared here, as the payment code names it.
OUTBOUND_DESTINATIONS = env.json("OUTBOUND_DESTINATIONS", default=[]) + (
    [
        {
            "host": "api.yookassa.ru",
            "port": 443,
            "purpose": "payments",
            "recipient": "YooKassa (YooMoney)",
            "country": "RU",
            "basis": "contract",
        }
    ]
    if YOOKASSA_API_URL.startswith("https://api.yookassa.ru/")
    else []
)

CSRF_FAILURE_VIEW = "backgroundmusic.core.views.csrf_failure"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = HTTPS and env.bool("SECURE_SSL_REDIRECT", default=True)
# Prometheus scrapes each app server where gunicorn listens, over the private network, not
# through nginx's TLS (docs/operations.md "Metrics").
SECURE_REDIRECT_EXEMPT = [r"^metrics$"]
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "media-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'", *PAYMENT_PAGE_ORIGINS],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# "plain" (the default, for a person reading a terminal) or "json" (one object a line, for a
# server's log collector; core/logging.py JsonLogFormatter, decision 0042).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f'LOG_FORMAT must be "plain" or "json", not {LOG_FORMAT!r}.')
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "backgroundmusic.core.logging.RequestIdFilter"},
        "mask_personal_data": {"()": "backgroundmusic.core.logging.PersonalDataMaskFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "backgroundmusic.core.logging.JsonLogFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "mask_personal_data"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own default handlers (console under DEBUG, mail_admins) carry no mask filter:
        # drop them so every record reaches the masked root handler.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "INFO"},
        # WeasyPrint logs every step of every PDF at INFO (core/documents.py); its warnings
        # (a refused or broken resource) still come through.
        "weasyprint.progress": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
# URL paths whose next segment names a person or acts for them (masked in logs like e-mail
# addresses): public profiles, export downloads, the newsletter's confirmation links.
LOG_MASKED_PATH_PREFIXES = ["/u/", "/privacy/export/download/", "/privacy/confirm/"]
