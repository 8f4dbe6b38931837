"""Settings, read from the environment: the framework, the domain apps, the API.

With nothing set, the embedded default runs without any server: SQLite under
``var/`` and a file-based Celery broker. Production sets DATABASE_URL (PostgreSQL)
and CELERY_BROKER_URL (Redis or RabbitMQ); see the README's configuration table.
"""

from decimal import Decimal
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-embedded-default-set-SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.import_export",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "djmoney",
    "import_export",
    "feemgmt.core",
    "audit",
    "contracts",
    "alerts",
    "ledger",
    "billing",
    "payments",
    "reconciliation",
    "risk",
    "reports",
    "access",
    "integrations",
    "webhooks",
    "portal",
    "documents",
    "feedback",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.middleware.AuditContextMiddleware",
    "integrations.middleware.IdempotencyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "feemgmt.urls"
WSGI_APPLICATION = "feemgmt.wsgi.application"

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite keeps decimals as REAL: every money aggregate goes through
    # feemgmt.core.money.money_from_db, and correctness tests run on PostgreSQL.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"

# --- Locale, time, money -------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "feemgmt" / "theme_locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

DEFAULT_CURRENCY = env.str("DEFAULT_CURRENCY", default="CNY")
# Currencies contracts may be written in. Amounts are stored with two decimal
# places, so only currencies with at most two minor digits belong here.
CURRENCIES = tuple(env.list("CURRENCIES", default=["CNY", "USD", "EUR", "HKD", "JPY", "GBP"]))
CURRENCY_CHOICES = [(code, code) for code in CURRENCIES]

# Payment methods a contract may name. The collection side registers one adapter
# per name; a new method is a new adapter module plus one entry here.
PAYMENT_METHODS = {
    "bank_transfer": _("Bank transfer"),
    "alipay": _("Alipay"),
    "wechat_pay": _("WeChat Pay"),
    "auto_debit": _("Auto-debit under mandate"),
    "sandbox": _("Sandbox (simulated gateway)"),
}


# The adapter behind each payment method: name (as in PAYMENT_METHODS) → class and its
# options (payments/adapters/registry.py). Alipay and WeChat Pay speak their real
# protocols once their merchant keys are configured; until then (the demo) they are
# backed by the sandbox gateway, so every method can be tried without a merchant account.
def _read_key(variable):
    """A PEM key from the file the variable names ("" when unset)."""
    path = env.str(variable, default="")
    return Path(path).read_text() if path else ""


def _sandbox_backed(name):
    return {
        "class": "payments.adapters.sandbox.SandboxAdapter",
        "options": {
            "secret": env.str("SANDBOX_SECRET", default="sandbox-secret"),
            "app_id": f"{name}-sandbox",
        },
    }


PAYMENT_ADAPTERS = {
    "sandbox": {
        "class": "payments.adapters.sandbox.SandboxAdapter",
        "options": {"secret": env.str("SANDBOX_SECRET", default="sandbox-secret")},
    },
    # The payee account printed on payment notices (demo defaults); settled by
    # reconciliation (no bank link: the bank tells us nothing until a statement line
    # is matched).
    "bank_transfer": {
        "class": "payments.adapters.bank_transfer.BankTransferAdapter",
        "options": {
            "account_name": env.str("BANK_TRANSFER_ACCOUNT_NAME", default="示例物业管理有限公司"),
            "account_number": env.str(
                "BANK_TRANSFER_ACCOUNT_NUMBER", default="6222020200012345678"
            ),
            "bank_name": env.str("BANK_TRANSFER_BANK_NAME", default="中国工商银行上海分行营业部"),
        },
    },
    "alipay": _sandbox_backed("alipay"),
    "wechat_pay": _sandbox_backed("wechat_pay"),
    # Direct debits under the customers' mandates, batched into ISO 20022 pain.008
    # files for the creditor's bank (demo creditor defaults).
    "auto_debit": {
        "class": "payments.adapters.auto_debit.AutoDebitAdapter",
        "options": {
            "creditor_name": env.str("AUTO_DEBIT_CREDITOR_NAME", default="示例物业管理有限公司"),
            "creditor_iban": env.str("AUTO_DEBIT_CREDITOR_IBAN", default="DE87200500001234567890"),
            "creditor_bic": env.str("AUTO_DEBIT_CREDITOR_BIC", default="BANKDEFFXXX"),
            "creditor_id": env.str("AUTO_DEBIT_CREDITOR_ID", default="DE98ZZZ09999999999"),
        },
    },
}
if env.str("ALIPAY_APP_ID", default=""):
    PAYMENT_ADAPTERS["alipay"] = {
        "class": "payments.adapters.alipay.AlipayAdapter",
        "options": {
            "app_id": env.str("ALIPAY_APP_ID"),
            "seller_id": env.str("ALIPAY_SELLER_ID"),
            "app_private_key": _read_key("ALIPAY_APP_PRIVATE_KEY_FILE"),
            "alipay_public_key": _read_key("ALIPAY_PUBLIC_KEY_FILE"),
            "gateway_url": env.str(
                "ALIPAY_GATEWAY_URL", default="https://openapi.alipay.com/gateway.do"
            ),
        },
    }
if env.str("WECHAT_PAY_MCHID", default=""):
    PAYMENT_ADAPTERS["wechat_pay"] = {
        "class": "payments.adapters.wechat_pay.WechatPayAdapter",
        "options": {
            "mchid": env.str("WECHAT_PAY_MCHID"),
            "appid": env.str("WECHAT_PAY_APPID"),
            "apiv3_key": env.str("WECHAT_PAY_APIV3_KEY"),
            "cert_serial_no": env.str("WECHAT_PAY_CERT_SERIAL_NO"),
            "private_key": _read_key("WECHAT_PAY_PRIVATE_KEY_FILE"),
            "public_key": _read_key("WECHAT_PAY_PUBLIC_KEY_FILE"),
            "public_key_id": env.str("WECHAT_PAY_PUBLIC_KEY_ID"),
            "gateway_url": env.str(
                "WECHAT_PAY_GATEWAY_URL", default="https://api.mch.weixin.qq.com"
            ),
        },
    }

# Collection (payments/services/collection.py). After a declined attempt the charge
# is retried after each of these numbers of days in turn, then it is overdue.
PAYMENT_RETRY_DAYS = env.list("PAYMENT_RETRY_DAYS", cast=int, default=[1, 3, 7])
# A payment waiting for the customer or the bank is checked again after this many days.
PAYMENT_PENDING_CHECK_DAYS = env.int("PAYMENT_PENDING_CHECK_DAYS", default=1)
# Where gateways send their notifications: this site's public address.
PAYMENT_NOTIFY_BASE_URL = env.str("PAYMENT_NOTIFY_BASE_URL", default="http://127.0.0.1:8000")
# The billing run hands the charges it creates to collection at once (the sweep
# would find them anyway on its next round).
PAYMENT_COLLECT_AFTER_BILLING = env.bool("PAYMENT_COLLECT_AFTER_BILLING", default=True)
# Customers paying by direct debit are told this many days before a debit.
AUTO_DEBIT_PRENOTIFY_DAYS = env.int("AUTO_DEBIT_PRENOTIFY_DAYS", default=3)
# Days between a direct debit batch's creation and the collection date it asks for.
AUTO_DEBIT_LEAD_DAYS = env.int("AUTO_DEBIT_LEAD_DAYS", default=2)

# Reconciliation (docs/reconciliation.md). A bank-transfer notice still unpaid this
# many days after its due date is a "payment missing from the statement" discrepancy.
RECONCILIATION_TRANSFER_WAIT_DAYS = env.int("RECONCILIATION_TRANSFER_WAIT_DAYS", default=14)
# What is left of a partly paid charge may be written off from its discrepancy (with a
# second person's approval) only up to this amount, in the charge's currency.
RECONCILIATION_WRITE_OFF_TOLERANCE = Decimal(
    env.str("RECONCILIATION_WRITE_OFF_TOLERANCE", default="10.00")
)

# Audit (docs/audit.md). The daily verification mails the chain's head to these
# addresses (default: the active members of the auditors group, 审计员); a request's IP is
# taken from X-Forwarded-For only when it comes from one of the trusted proxies.
AUDIT_REPORT_EMAILS = env.list("AUDIT_REPORT_EMAILS", default=[]) or None
AUDIT_TRUSTED_PROXIES = env.list("AUDIT_TRUSTED_PROXIES", default=[])

# Risk warnings (docs/risk.md). The defaults of each rule: the database keeps the
# values a finance manager sets in the admin (risk.RiskRule); a rule missing there
# starts from these. count/days/percent are the thresholds each rule reads.
RISK_RULES = {
    "failed_deductions": {"severity": "warning", "count": 3},
    "overdue_long": {"severity": "warning", "days": 30},
    "mandate_expiring": {"severity": "warning", "days": 30},
    "mandate_revoked": {"severity": "warning"},
    "unmatched_payment": {"severity": "warning", "days": 3},
    "duplicate_payment": {"severity": "warning"},
    "reconciliation_difference": {"severity": "warning"},
    "reconciliation_unsigned": {"severity": "warning", "days": 5},
    "prepaid_low": {"severity": "info", "days": 7},
    "amount_deviation": {"severity": "warning", "percent": Decimal("50")},
    "on_time_rate": {"severity": "warning", "percent": Decimal("80"), "count": 6},
    "audit_chain_broken": {"severity": "critical"},
}
# Who gets the alert e-mails (default: the active members of the finance groups).
ALERT_EMAILS = env.list("ALERT_EMAILS", default=[]) or None
# This site's address, for links in e-mails to staff.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# --- Static files ---------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "static")
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request if absent
# Uploaded files (signed paper consents): kept with the data, never served publicly;
# staff download them through the admin, which checks permissions.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- REST API ---------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
        "integrations.authentication.APIKeyAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["feemgmt.api.permissions.IsStaffWithModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": ["feemgmt.api.filtering.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "feemgmt.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "feemgmt.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "feemgmt.api.errors.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Fee management API",
    "DESCRIPTION": "Customers, contracts with their fees, and the charges the billing run creates.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # fields of the same name in several models ("kind", "status") get named enums
    "ENUM_NAME_OVERRIDES": {
        "FeeKindEnum": "contracts.choices.FeeKind",
        "ChargeStatusEnum": "billing.choices.ChargeStatus",
        "ContractStatusEnum": "contracts.choices.ContractStatus",
        "AccountKindEnum": "reconciliation.choices.AccountKind",
        "StatementFormatEnum": "reconciliation.choices.StatementFormat",
        "StatementLineKindEnum": "reconciliation.choices.LineKind",
        "StatementLineStatusEnum": "reconciliation.choices.LineStatus",
        "MatchStatusEnum": "reconciliation.choices.MatchStatus",
        "DiscrepancyKindEnum": "reconciliation.choices.DiscrepancyKind",
        "DiscrepancyStatusEnum": "reconciliation.choices.DiscrepancyStatus",
        "PaymentAttemptStatusEnum": "payments.choices.AttemptStatus",
        "RefundStatusEnum": "payments.choices.RefundStatus",
        "ApprovalStatusEnum": "payments.choices.ApprovalStatus",
        "MandateStatusEnum": "payments.choices.MandateStatus",
    },
}

# --- Celery ------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's file transport only consumes when the in and out folders are one.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    for _folder in ("queue", "processed", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # A task not acknowledged within this time is delivered again; it must exceed
    # the longest task (a billing chunk takes seconds), and tasks are idempotent.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
DJANGO_CELERY_BEAT_TZ_AWARE = True

# --- Billing ---------------------------------------------------------------
BILLING_CHUNK_SIZE = env.int("BILLING_CHUNK_SIZE", default=2000)
# The queue of the billing run's chunk tasks: the default queue unless workers are
# set aside for billing (BILLING_QUEUE=billing, and `celery worker -Q billing` on them).
BILLING_QUEUE = env.str("BILLING_QUEUE", default="celery")
CELERY_TASK_ROUTES = {"billing.run_chunk": {"queue": BILLING_QUEUE}}

# --- Admin exports (docs/exports.md) -------------------------------------------
# Exporting a list is reading it: whoever may view a model may export its list.
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
# Rows fetched per round trip while an export streams through its query.
IMPORT_EXPORT_CHUNK_SIZE = 2000

# --- Logging ---------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # WeasyPrint reports each rendering step (its own stylesheets at import, too) at
    # INFO: only its warnings (a missing font, a refused URL) are worth a line.
    "loggers": {"weasyprint.progress": {"level": "WARNING"}},
}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="billing@example.com")

from feemgmt.admin_site import UNFOLD  # noqa: E402,F401
