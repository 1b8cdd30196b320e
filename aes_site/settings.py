"""All settings, read from the environment (see README "Configuration")."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_path(name: str, default: Path) -> Path:
    return Path(os.environ.get(name, default)).expanduser().resolve()


# Where the SQLite database, model artifacts and exports live.
DATA_DIR = env_path("AES_DATA_DIR", BASE_DIR / "var")
# Model artifacts (scorer and rewriter versions). Must be shared by every worker machine.
ARTIFACTS_DIR = env_path("AES_ARTIFACTS_DIR", DATA_DIR / "artifacts")
DATA_DIR.mkdir(parents=True, exist_ok=True)
# Bundled essays (copied from the published datasets, see data/README.md).
BUNDLED_DATA_DIR = BASE_DIR / "data"

DEVELOPMENT_SECRET_KEY = "dev-insecure-key-change-me-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY") or DEVELOPMENT_SECRET_KEY
DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]


def production_problems() -> list[str]:
    """What keeps DEBUG=false (production) from starting: development defaults where real values must be."""
    problems = []
    weak = len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure-")
    if SECRET_KEY == DEVELOPMENT_SECRET_KEY or weak:
        problems.append(
            "SECRET_KEY must be set to a long random value (50+ characters): "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    if not os.environ.get("ALLOWED_HOSTS", "").strip():
        problems.append("ALLOWED_HOSTS must name the site's host names, e.g. ALLOWED_HOSTS=aes.example.org")
    return problems


if not DEBUG and (problems := production_problems()):
    raise ImproperlyConfigured("DEBUG is false (production), but " + "; ".join(problems))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "labeling",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "aes_site.urls"
WSGI_APPLICATION = "aes_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "labeling.context_processors.roles",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'aes.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker) share the file: wait for locks instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Login throttling (django-axes): after AES_LOGIN_FAILURE_LIMIT failed logins an account, and separately an address,
# is locked out for AES_LOGIN_COOLOFF_MINUTES; staff unlock it sooner on the Raters page.
AUTHENTICATION_BACKENDS = [
    "aes_site.login_throttle.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AES_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("AES_LOGIN_COOLOFF_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "aes_site.login_throttle.client_ip"
AXES_VERBOSE = False
# How many proxies stand in front of the site: the client's address is then read from X-Forwarded-For.
TRUSTED_PROXY_COUNT = int(os.environ.get("AES_TRUSTED_PROXY_COUNT", "0"))
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env_path("STATIC_ROOT", BASE_DIR / "staticfiles")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Production serves HTTPS only, behind a TLS proxy that sets X-Forwarded-Proto (README "Production").
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
if env_bool("AES_BEHIND_TLS_PROXY", not DEBUG):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
# Error pages (the debug page too) never show a password, not even inside a connection URL such as DATABASE_URL.
DEFAULT_EXCEPTION_REPORTER_FILTER = "aes_site.reporting.CredentialHidingFilter"

# Celery: one broker for every machine; GPU work goes to the "gpu" queue.
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# A round step whose worker has not heart-beaten for this long is marked failed (worker killed, machine lost).
ROUND_HEARTBEAT_TIMEOUT = float(os.environ.get("AES_HEARTBEAT_TIMEOUT", "120"))
# A GEC set (dev.src, dev.ref0..) the evaluate step also measures GLEU on (first round.gec_sentences); empty: none
GEC_DIR = os.environ.get("AES_GEC_DIR", "")
# Celery beat (one per deployment) runs the sweep this often: it fails steps whose heartbeat stopped and sends again
# the next step of a round whose broker message was lost (labeling/training/tasks.py).
ROUND_SWEEP_SECONDS = float(os.environ.get("AES_SWEEP_SECONDS", "30"))
CELERY_BEAT_SCHEDULE = {
    "sweep": {
        "task": "labeling.tasks.sweep",
        "schedule": ROUND_SWEEP_SECONDS,
        # A sweep nobody ran in time is dropped: the next one does the same work.
        "options": {"expires": ROUND_SWEEP_SECONDS},
    }
}

# Rater calibration of the scorer (labeling/training/rater_calibration.py): fitted once this many texts have approved
# consensus bands, refitted when this many more have come in since the last fit, at most once per this many seconds.
RATERCAL_MIN_LABELS = int(os.environ.get("AES_RATERCAL_MIN_LABELS", "20"))
RATERCAL_REFIT_EVERY = int(os.environ.get("AES_RATERCAL_REFIT_EVERY", "10"))
RATERCAL_DEBOUNCE_SECONDS = float(os.environ.get("AES_RATERCAL_DEBOUNCE_SECONDS", "60"))
# How clearly (standard errors of cross-validated MAE) a shift or slope must beat no change before it is applied:
# 2 (the default) almost never moves raters who already agree and needs about 100 labels for raters half a band
# off; 1 adapts to those within about 50 but moves agreeing raters the wrong way in about a tenth of fits.
RATERCAL_SELECTION_Z = float(os.environ.get("AES_RATERCAL_SELECTION_Z", "2.0"))

# Models. Defaults are the packaged ones (no hub downloads); any HF id or local path works.
REWRITER_BASE_MODEL = os.environ.get("AES_REWRITER_BASE_MODEL", "packaged:smollm2-135m-instruct")

# Rater workspace.
RATING_PAY_PER_ESSAY = os.environ.get("AES_PAY_PER_ESSAY", "1.00")
RATING_CURRENCY = os.environ.get("AES_CURRENCY", "USD")
RATING_ASSIGNMENT_MINUTES = int(os.environ.get("AES_ASSIGNMENT_MINUTES", "30"))
RATING_DEFAULT_K = int(os.environ.get("AES_RATINGS_PER_ITEM", "2"))
RATING_GOLD_SHARE = float(os.environ.get("AES_GOLD_SHARE", "0.10"))
# Essays `bootstrap_demo` rewrites in the background so raters have pairs minutes after start-up (0: none).
FIRST_BATCH_ESSAYS = int(os.environ.get("AES_FIRST_BATCH_ESSAYS", "20"))
RATING_CRITERIA_ENABLED = env_bool("AES_RATING_CRITERIA", True)
# A rating submitted in less active time than this, plus the time per change of the pair, is held: not paid until a
# reviewer approves it.
RATING_MIN_READ_SECONDS = int(os.environ.get("AES_MIN_READ_SECONDS", "20"))
RATING_MIN_READ_SECONDS_PER_CHANGE = int(os.environ.get("AES_MIN_READ_SECONDS_PER_CHANGE", "4"))
# Share of gold items whose pair is the essay against itself with one injected learner error (an edit-level check).
RATING_GOLD_EDIT_SHARE = float(os.environ.get("AES_GOLD_EDIT_SHARE", "0.5"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # A refused request (403) is logged as one line, without the traceback of the PermissionDenied behind it.
    "filters": {"plain_forbidden": {"()": "aes_site.log_filters.PlainForbidden"}},
    "loggers": {"django.request": {"filters": ["plain_forbidden"]}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so a Celery worker started by the tests can open the test database too.
    # One file per test run, so parallel runs on one machine do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-aes-{os.getpid()}.sqlite3")}
