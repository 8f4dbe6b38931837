"""Settings of the customers' and integrators' doors: the portal's logins, API keys
and idempotent POSTs, the documents' issuer, webhooks. Read from the environment
like feemgmt/settings/base.py, which they extend."""

from datetime import timedelta

from .base import INSTALLED_APPS, SPECTACULAR_SETTINGS, env

# --- Portal ---------------------------------------------------------------

# Login throttling (django-axes, docs/portal.md): every login form of the site (portal,
# admin, API browser) counts failures per username *and* IP address; the fifth failure
# locks that pair out for 15 minutes, even with the right password. A success resets
# the count. Axes' own defaults (3 failures, locked forever) are not relied on.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "portal/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AUTHENTICATION_BACKENDS = [
    "portal.throttling.LoginThrottleBackend",  # axes first: refuses locked-out logins
    "django.contrib.auth.backends.ModelBackend",
]
# Invitations and password resets: links valid for 3 days.
PASSWORD_RESET_TIMEOUT = 3 * 24 * 3600

# --- Integrations ---------------------------------------------------------------
# API keys (integrations.APIKey) are stored by djangorestframework-api-key, whose
# abstract model needs its app installed (its own key table stays unused).
INSTALLED_APPS = [*INSTALLED_APPS, "rest_framework_api_key"]
# An API key's "last used" is written at most once per this many seconds.
API_KEY_LAST_USED_RESOLUTION = env.int("API_KEY_LAST_USED_RESOLUTION", default=60)
# Idempotency-Key on POSTs under this prefix (docs/api.md): answers are kept this
# many hours; a request still marked running after IDEMPOTENCY_RUNNING_TIMEOUT
# seconds is taken for dead (its process gone) and its key may be used again.
IDEMPOTENCY_PATH_PREFIX = "/api/v1/"
IDEMPOTENCY_KEY_HOURS = env.int("IDEMPOTENCY_KEY_HOURS", default=24)
IDEMPOTENCY_RUNNING_TIMEOUT = env.int("IDEMPOTENCY_RUNNING_TIMEOUT", default=600)
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "integrations.schema.document_idempotency",
    "feemgmt.api.schema.document_errors",
]

# --- Documents ---------------------------------------------------------------
# The company that issues receipts and statements of account (docs/documents.md).
COMPANY_NAME = env.str("COMPANY_NAME", default="示例物业管理有限公司")
COMPANY_ADDRESS = env.str("COMPANY_ADDRESS", default="上海市浦东新区世纪大道100号")
COMPANY_PHONE = env.str("COMPANY_PHONE", default="021-00000000")
COMPANY_CREDIT_CODE = env.str("COMPANY_CREDIT_CODE", default="")
# The longest period one statement of account may cover, in days.
DOCUMENTS_STATEMENT_MAX_DAYS = env.int("DOCUMENTS_STATEMENT_MAX_DAYS", default=366)

# --- Webhooks (docs/webhooks.md) ---------------------------------------------------
# Seconds a request to an endpoint may take (connecting and reading the answer).
WEBHOOK_TIMEOUT = env.int("WEBHOOK_TIMEOUT", default=10)
# Retries after a failure: 1 minute, doubled each time up to the maximum, for the
# window (from the event, or from a staff redelivery), then the delivery fails.
WEBHOOK_RETRY_BASE_DELAY = env.int("WEBHOOK_RETRY_BASE_DELAY", default=60)
WEBHOOK_RETRY_MAX_DELAY = env.int("WEBHOOK_RETRY_MAX_DELAY", default=3600)
WEBHOOK_RETRY_WINDOW = env.int("WEBHOOK_RETRY_WINDOW", default=24 * 3600)
# Characters of an endpoint's answer kept on the delivery.
WEBHOOK_RESPONSE_EXCERPT = env.int("WEBHOOK_RESPONSE_EXCERPT", default=2000)
# Due deliveries the every-minute sweeper sends per run.
WEBHOOK_SWEEP_LIMIT = env.int("WEBHOOK_SWEEP_LIMIT", default=500)
# Seconds another process may go on using what it knows of the subscribed event
# types before it reads them again (a new endpoint reaches the workers within it).
WEBHOOK_SUBSCRIPTIONS_TTL = env.int("WEBHOOK_SUBSCRIPTIONS_TTL", default=30)
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "WebhookEventTypeEnum": "webhooks.choices.EventType",
        "WebhookDeliveryStatusEnum": "webhooks.choices.DeliveryStatus",
    }
)
