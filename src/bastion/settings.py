"""Django settings for Bastion. Every value comes from the environment through ``bastion.config``."""

from __future__ import annotations

import datetime
import email.utils
import ipaddress
import os
import re
import secrets
import zoneinfo
from pathlib import Path

import dj_database_url
import django_stubs_ext
from csp.constants import NONCE

from bastion import config
from bastion.audit.anchoring import check_url as check_anchor_url
from bastion.config import (
    BAD_URL,
    CONFLICT,
    MALFORMED,
    OUT_OF_RANGE,
    UNKNOWN_VALUE,
    ConfigError,
    check_pkcs11,
    check_url,
    data_dir,
    env,
    env_bool,
    env_choice,
    env_int,
    env_list,
    object_storage,
    private_data_dir,
    report,
    reported,
)
from bastion.incidents import targets as incident_targets
from bastion.operations.logs import FORMATS as LOG_FORMATS
from bastion.operations.logs import logging_config

# Django's generic classes (a field's value types, QuerySet[Model]) become subscriptable, as the type checker sees them.
django_stubs_ext.monkeypatch()

# Every bad value below is noted and start-up refuses them all at once (config.finish_reading, at the end).
config.begin_reading()
BASE_DIR = Path(__file__).resolve().parent
# 0700; the embedded databases made 0600 before SQLite opens them; refused while others can read them.
DATA_DIR = private_data_dir(data_dir(), create=tuple(
    name for name, used in (("bastion.sqlite3", not env("DATABASE_URL")), ("jobs.sqlite3", not env("REDIS_URL")))
    if used
))


def _secret_key() -> str:
    """SECRET_KEY from the environment, else a random one kept in the data dir (mode 0600)."""
    configured = env("BASTION_SECRET_KEY")
    if configured:
        if len(configured) < 50 or len(set(configured)) < 5:  # Django's own bar (security.W009)
            report(ConfigError("BASTION_SECRET_KEY is too short or too simple (at least 50 characters, 5 different)",
                               check_id=OUT_OF_RANGE, hint="Generate one: python3 -c 'import secrets; "
                                                           "print(secrets.token_urlsafe(64))'"))
        return configured
    path = DATA_DIR / "secret_key"
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(64))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("BASTION_DEBUG", False)
# Production: the deployment checks (bastion config check, and bastion serve at start) refuse what
# only a laptop may do (a generated secret key, plain HTTP, emails printed to the console …); outside
# it they warn. `bastion serve` on an address other than loopback is production whatever this says.
BASTION_PRODUCTION = env_bool("BASTION_PRODUCTION", False)
# Which environment this installation is: production, staging or development (seeds 002 and 004:
# separate databases per environment, no production data in the others). Production is the default
# because it is the safe mistake: an installation that forgets to say so keeps refusing to restore
# production backups that were not anonymised, rather than a production server that forgets
# accepting them. `bastion demo` says development. Outside production the console shows a banner.
BASTION_ENVIRONMENT = env_choice("BASTION_ENVIRONMENT", "production", ("production", "staging", "development"))
# Set by `bastion serve --certfile` (and `bastion config check --certfile`): this process serves HTTPS.
BASTION_SERVES_TLS = False
ALLOWED_HOSTS = env_list("BASTION_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
# DEBUG pages show settings, SQL and tracebacks: never for anything but this machine.
if DEBUG and not set(ALLOWED_HOSTS) <= {"localhost", "127.0.0.1", "[::1]", "::1"}:
    report(ConfigError("BASTION_DEBUG is on: BASTION_ALLOWED_HOSTS may then only name localhost", check_id=CONFLICT,
                       hint="Unset BASTION_DEBUG (development only), or list only localhost in BASTION_ALLOWED_HOSTS."))
    ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
if DEBUG and BASTION_PRODUCTION:
    report(ConfigError("BASTION_DEBUG is on with BASTION_PRODUCTION: debug pages show settings and tracebacks",
                       check_id=CONFLICT, hint="Unset BASTION_DEBUG in production."))
    DEBUG = False
# How many machines run `bastion serve` or `bastion worker` against this database: more than one
# needs REDIS_URL (the job queue and its locks must be shared), and PostgreSQL.
BASTION_SERVERS = env_int("BASTION_SERVERS", 1, minimum=1)


def _valid_network(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError:
        return False
    return True


EMAIL_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _email_addresses(name: str, values: list[str]) -> list[str]:
    """Those of ``values`` that are addresses (``Name <a@b.c>`` or ``a@b.c``); the others noted."""
    good = []
    for value in values:
        if EMAIL_ADDRESS.match(email.utils.parseaddr(value)[1]):
            good.append(value)
        else:
            report(ConfigError(f"{name}: {value!r} is not an email address", check_id=MALFORMED))
    return good


# Reverse proxies (IP addresses or networks) whose X-Forwarded-For and X-Forwarded-Proto are
# believed (bastion.hardening.proxies); nobody's by default.
BASTION_TRUSTED_PROXIES = env_list("BASTION_TRUSTED_PROXIES", [])
for _proxy in BASTION_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=True)
    except ValueError as exc:
        report(ConfigError(f"BASTION_TRUSTED_PROXIES: {_proxy!r} is not an IP address or network ({exc})"))
BASTION_TRUSTED_PROXIES = [proxy for proxy in BASTION_TRUSTED_PROXIES if _valid_network(proxy)]
# Networks besides the public internet that customers' URLs (witness webhooks, OIDC issuers) may reach
# (bastion.tenancy.outbound); none by default, so a customer cannot make the platform call its own network.
BASTION_OUTBOUND_ALLOWED_NETWORKS = env_list("BASTION_OUTBOUND_ALLOWED_NETWORKS", [])
for _network in BASTION_OUTBOUND_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=True)
    except ValueError as exc:
        report(ConfigError(f"BASTION_OUTBOUND_ALLOWED_NETWORKS: {_network!r} is not an IP network ({exc})"))
BASTION_OUTBOUND_ALLOWED_NETWORKS = [network for network in BASTION_OUTBOUND_ALLOWED_NETWORKS
                                     if _valid_network(network)]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "bastion.audit",
    "bastion.crypto",
    "bastion.tenancy",
    "bastion.identity",
    "bastion.records",
    "bastion.emissions",
    "bastion.access_log",
    "bastion.hardening",
    "bastion.privacy",
    "bastion.backups",
    "bastion.support_access",
    "bastion.siem",
    "bastion.disclosures",
    "bastion.incidents",
    "csp",
    "bastion.console",
    "bastion.operations",
    "bastion.trust",
    "huey.contrib.djhuey",
]

MIDDLEWARE = [
    "bastion.hardening.proxies.TrustedProxyMiddleware",  # first: the scheme and client address everyone else sees
    "django.middleware.security.SecurityMiddleware",
    "bastion.operations.middleware.ObservedRequestMiddleware",  # counts and logs what the client got
    "bastion.hardening.headers.SecurityHeadersMiddleware",
    "bastion.hardening.content_security_policy.NonceEverywhereCSPMiddleware",
    "bastion.identity.sessions.cookies.SecureCookiesOverTLSMiddleware",
    "bastion.hardening.uploads.RequestSizeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "bastion.hardening.origins.OriginCheckMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "bastion.hardening.rate_limits.RateLimitMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "bastion.identity.sso.unreachable_provider.UnreachableProviderMiddleware",
    "bastion.identity.sessions.timeouts.SessionTimeoutMiddleware",
    "bastion.identity.sessions.devices.SuspiciousSessionMiddleware",
    "bastion.identity.sessions.activity.SessionActivityMiddleware",
    "bastion.audit.middleware.AuditContextMiddleware",
    "bastion.crypto.middleware.CustomerKeyRefusalMiddleware",  # a request's own customer-key refusal, if any
    "bastion.console.middleware.AccessDeniedMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "bastion.identity.mfa.policy.MFAEnrolmentMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "bastion.tenancy.middleware.TenantContextMiddleware",
    "bastion.support_access.transparency.GrantUseMiddleware",  # records each request made under a staff grant
]

ROOT_URLCONF = "bastion.urls"
WSGI_APPLICATION = "bastion.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Bastion's look for allauth's pages (its layouts and a few pages) before allauth's own.
        "DIRS": [BASE_DIR / "console" / "allauth_templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "bastion.console.context.organisations",
                "bastion.console.context.environment",
            ],
        },
    },
]


def _databases() -> dict:
    """``DATABASE_URL`` selects PostgreSQL; without it, SQLite (WAL) in the data dir.

    ``DATABASE_ADMIN_URL`` names the role that owns the tables and runs migrations; the app
    connects with ``DATABASE_URL``, a role that is neither owner nor superuser, so PostgreSQL's
    row-level security applies to every query it makes.
    """
    url = env("DATABASE_URL")
    if not url:
        return {
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": DATA_DIR / "bastion.sqlite3",
                "OPTIONS": {
                    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                    "transaction_mode": "IMMEDIATE",
                    "timeout": 20,
                },
            }
        }
    try:
        default = dj_database_url.parse(url, conn_max_age=env_int("BASTION_DB_CONN_MAX_AGE", 60, minimum=0))
    except ValueError as exc:
        raise ConfigError(f"DATABASE_URL is not a database URL: {exc}", check_id=BAD_URL) from exc
    if default["ENGINE"] != "django.db.backends.postgresql":
        raise ConfigError("DATABASE_URL must be a postgres:// URL (SQLite is the default without it)", check_id=BAD_URL)
    default["CONN_HEALTH_CHECKS"] = True
    admin_url = env("DATABASE_ADMIN_URL")
    if admin_url and env_bool("BASTION_DB_AS_ADMIN", False):
        admin = dj_database_url.parse(admin_url)
        default["USER"], default["PASSWORD"] = admin["USER"], admin["PASSWORD"]
    databases: dict = {"default": default}
    replica_url = env("DATABASE_REPLICA_URL")
    if replica_url:
        databases[REPLICA_ALIAS] = _replica(replica_url, dict(default))
    return databases


REPLICA_ALIAS = "replica"


def _replica(url: str, default: dict) -> dict:  # dj_database_url's DBConfig, as plain dicts
    """``DATABASE_REPLICA_URL``: a streaming replica of the same database, reached as the same app role
    (not owner, not superuser: row-level security applies there too). Only the reads that
    ``bastion.tenancy.replica_reads`` allows go there; it is never migrated and never written."""
    try:
        replica: dict = dict(dj_database_url.parse(url, conn_max_age=default["CONN_MAX_AGE"]))
    except ValueError as exc:
        raise ConfigError(f"DATABASE_REPLICA_URL is not a database URL: {exc}", check_id=BAD_URL) from exc
    if replica["ENGINE"] != "django.db.backends.postgresql":
        raise ConfigError("DATABASE_REPLICA_URL must be a postgres:// URL (a streaming replica of DATABASE_URL)",
                          check_id=BAD_URL)
    replica["CONN_HEALTH_CHECKS"] = True
    # A replica that is down must not hold a request for long: the router falls back to the primary.
    replica.setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
    replica["TEST"] = {"MIRROR": "default"}
    return replica


try:
    DATABASES = _databases()
    DATABASE_APP_ROLE = dj_database_url.parse(env("DATABASE_URL", ""))["USER"] if env("DATABASE_URL") else None
    DATABASE_ADMIN_CREDENTIALS = (
        {k: dj_database_url.parse(env("DATABASE_ADMIN_URL", ""))[k] for k in ("USER", "PASSWORD")}
        if env("DATABASE_ADMIN_URL")
        else None
    )
except (ConfigError, ValueError) as _exc:  # noted; the checks go on as if no database were configured
    report(_exc if isinstance(_exc, ConfigError) else ConfigError(f"DATABASE_ADMIN_URL is not a database URL: {_exc}",
                                                                   check_id=BAD_URL))
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "bastion.sqlite3"}}
    DATABASE_APP_ROLE = DATABASE_ADMIN_CREDENTIALS = None
# The tenant context is a per-transaction setting (SET LOCAL), so every request runs in one.
for _db in DATABASES.values():
    _db["ATOMIC_REQUESTS"] = True
if REPLICA_ALIAS in DATABASES:
    # Never a request-wide transaction on the replica: it would connect (and fail, when the replica is
    # down) on every request. Its reads run in autocommit, the tenant settings applied to each.
    DATABASES[REPLICA_ALIAS]["ATOMIC_REQUESTS"] = False
    DATABASE_ROUTERS = ["bastion.tenancy.replica_reads.ReplicaRouter"]
    MIDDLEWARE.insert(MIDDLEWARE.index("bastion.tenancy.middleware.TenantContextMiddleware"),
                      "bastion.tenancy.replica_reads.ReplicaReadsMiddleware")
elif env("DATABASE_REPLICA_URL") and not env("DATABASE_URL"):
    report(ConfigError("DATABASE_REPLICA_URL needs DATABASE_URL (a replica of which primary?)", check_id=CONFLICT))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "identity.User"
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "console:home"
LOGOUT_REDIRECT_URL = "account_login"
AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]

# Accounts (django-allauth): sign-in by email, verified addresses, no account enumeration.
ACCOUNT_ADAPTER = "bastion.identity.account_adapter.BastionAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True  # an address is added only once its code is entered: also for accounts with a second factor
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_FORMS = {
    "signup": "bastion.identity.signup_form.SameWorkSignupForm",
    "add_email": "bastion.identity.signup_form.NoSingleSignOnDomainAddEmailForm",
}
ACCOUNT_EMAIL_NOTIFICATIONS = True  # password changed, MFA added or removed: the user hears of it
ACCOUNT_SESSION_REMEMBER = False  # a session never outlives the browser or the absolute timeout
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_REAUTHENTICATION_REQUIRED = True  # sensitive account changes ask for the password (or MFA) again
# allauth's own limits (reset emails per address, confirmation emails) in the shared cache; sign-in
# attempts per client are bastion.hardening.rate_limits', and failed passwords are counted by
# bastion.identity.lockout, in the database, with a progressive lock.
ACCOUNT_RATE_LIMITS = {"login_failed": None, "login": None}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Bastion] "
ACCOUNT_SIGNUP_ENABLED = env_bool("BASTION_SIGNUP_ENABLED", True)
PASSWORD_RESET_TIMEOUT = env_int("BASTION_PASSWORD_RESET_SECONDS", 3600, minimum=300)  # reset links expire
BASTION_INVITATION_DAYS = env_int("BASTION_INVITATION_DAYS", 7, minimum=1)  # invitation links expire
DEFAULT_FROM_EMAIL = env("BASTION_EMAIL_FROM", "Bastion <no-reply@localhost>")
if env("BASTION_EMAIL_FROM"):
    DEFAULT_FROM_EMAIL = (_email_addresses("BASTION_EMAIL_FROM", [DEFAULT_FROM_EMAIL])
                          or ["Bastion <no-reply@localhost>"])[0]

# MFA (django-allauth): TOTP, recovery codes, WebAuthn security keys and passkeys.
MFA_ADAPTER = "bastion.identity.mfa.adapter.BastionMFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_FORMS = {"authenticate": "bastion.identity.mfa.forms.LockoutAwareAuthenticateForm"}
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = env("BASTION_TOTP_ISSUER", "Bastion") or "Bastion"
if ":" in MFA_TOTP_ISSUER:  # the otpauth:// label is "issuer:account": a colon in the issuer breaks it
    MFA_TOTP_ISSUER = report(ConfigError(f"BASTION_TOTP_ISSUER={MFA_TOTP_ISSUER!r} contains a colon"), "Bastion")
MFA_TOTP_TOLERANCE = 1  # one step either side for clock drift; a used code is refused for the whole window
MFA_RECOVERY_CODES_SHOW_ONCE = True  # shown once at generation; stored only as hashes
# WebAuthn needs a secure origin; plain-HTTP localhost is allowed only where it cannot be exposed.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env_bool("BASTION_WEBAUTHN_ALLOW_INSECURE_ORIGIN", False)
MFA_WEBAUTHN_USER_VERIFICATION = "preferred"
# An organisation may require MFA of all its members; owners and admins always need it.
BASTION_MFA_REQUIRED_ROLES = env_list("BASTION_MFA_REQUIRED_ROLES", ["owner", "admin"])
for _role in set(BASTION_MFA_REQUIRED_ROLES) - {"owner", "admin", "editor", "viewer"}:
    report(ConfigError(f"BASTION_MFA_REQUIRED_ROLES: {_role!r} is not a built-in role (owner, admin, editor, viewer)",
                       check_id=UNKNOWN_VALUE))
# How recently a second factor must have been used for a step-up action (keys, tokens, SSO, MFA policy, admins).
BASTION_STEP_UP_SECONDS = env_int("BASTION_STEP_UP_SECONDS", 300, minimum=30)

# SSO per organisation (allauth's OpenID Connect and SAML providers, connections in our own table).
SOCIALACCOUNT_ADAPTER = "bastion.identity.sso.social_adapter.BastionSocialAccountAdapter"
SOCIALACCOUNT_STORE_TOKENS = False  # an IdP's tokens are used once, at sign-in, and never kept
SOCIALACCOUNT_LOGIN_ON_GET = False  # starting a sign-in is a POST (no login CSRF)
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # linking to an existing account is decided by our adapter
# How far apart the IdP's clock and ours may be when checking an assertion's validity window.
BASTION_SSO_CLOCK_SKEW_SECONDS = env_int("BASTION_SSO_CLOCK_SKEW_SECONDS", 120, minimum=0)
# Identity providers are reached over HTTPS; plain HTTP only for local test IdPs.
BASTION_SSO_ALLOW_HTTP = env_bool("BASTION_SSO_ALLOW_HTTP", False)
# DNS servers that domain verification asks (host or host:port, comma-separated); empty: the system's.
BASTION_DNS_NAMESERVERS = env_list("BASTION_DNS_NAMESERVERS", [])
for _server in BASTION_DNS_NAMESERVERS:  # identity.sso.configuration reads host[:port] with IPv4 hosts
    _host, _, _port = _server.partition(":")
    if not re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", _host) or not _valid_network(_host) or (
            _port and not (_port.isdigit() and 0 < int(_port) < 65536)):
        report(ConfigError(f"BASTION_DNS_NAMESERVERS: {_server!r} is not an IPv4 address with an optional :port"))
BASTION_DNS_NAMESERVERS = [] if config.has_problem("BASTION_DNS_NAMESERVERS") else BASTION_DNS_NAMESERVERS

# Sessions listed to their user (device, address, last seen), each revocable.
USERSESSIONS_TRACK_ACTIVITY = True
USERSESSIONS_ADAPTER = "bastion.identity.sessions.adapter.BastionUserSessionsAdapter"
# A session whose network and user agent both change is ended; a sign-in from a new network on a
# new device is told to the user by email.
BASTION_SESSION_END_ON_CLIENT_CHANGE = env_bool("BASTION_SESSION_END_ON_CLIENT_CHANGE", True)
BASTION_NEW_DEVICE_EMAIL = env_bool("BASTION_NEW_DEVICE_EMAIL", True)

PASSWORD_HASHERS = [
    "bastion.identity.passwords.BastionArgon2Hasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",  # only to verify (and then upgrade) older hashes
]
BASTION_PASSWORD_MIN_LENGTH = env_int("BASTION_PASSWORD_MIN_LENGTH", 12, minimum=10)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "bastion.identity.passwords.LengthValidator", "OPTIONS": {"min_length": BASTION_PASSWORD_MIN_LENGTH}},
    {"NAME": "bastion.identity.passwords.CommonPasswordValidator"},
    {"NAME": "bastion.identity.passwords.PersonalDataValidator"},
]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = env_choice("BASTION_SESSION_SAMESITE", "Lax", ("Lax", "Strict"))
CSRF_COOKIE_SAMESITE = SESSION_COOKIE_SAMESITE
SESSION_COOKIE_SECURE = env_bool("BASTION_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if env("BASTION_TRUSTED_ORIGINS"):  # the old name: never silently ignored
    report(ConfigError("BASTION_TRUSTED_ORIGINS is replaced by BASTION_ALLOWED_ORIGINS (the same list serves "
                      "Django's CSRF check and the Origin check): rename it", check_id=CONFLICT))
SESSION_COOKIE_AGE = env_int("BASTION_SESSION_AGE_SECONDS", 8 * 3600, minimum=300)  # absolute timeout
BASTION_SESSION_IDLE_SECONDS = env_int("BASTION_SESSION_IDLE_SECONDS", 30 * 60, minimum=60)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# HSTS with preload (seed 001); Django sends it over TLS only, so the demo on http://localhost is unaffected.
SECURE_HSTS_SECONDS = env_int("BASTION_HSTS_SECONDS", 63072000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
# Django's deployment checks that Bastion answers its own way: HTTPS is served by `bastion serve
# --certfile` with no plain-HTTP port at all (or by a proxy that redirects), and the session and CSRF
# cookies are marked Secure on every request that came over TLS (identity.sessions.cookies). Whether
# TLS is served at all is bastion.E101.
SILENCED_SYSTEM_CHECKS = ["security.W008", "security.W012", "security.W016"]
# Origins besides this site's own that may send state-changing requests with the session cookie.
BASTION_ALLOWED_ORIGINS = [origin for origin in env_list("BASTION_ALLOWED_ORIGINS", [])
                           if check_url("BASTION_ALLOWED_ORIGINS", origin, ("https", "http"))]
CSRF_TRUSTED_ORIGINS = list(BASTION_ALLOWED_ORIGINS)

# A strict, nonce-based Content-Security-Policy (django-csp): no inline script or style, nothing
# framed, no plugins, no <base>; violations reported to /csp-report/ and kept (hardening.models).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        # 'strict-dynamic' with a nonce: only scripts this response names run ('self' is for old browsers).
        "script-src": ["'self'", NONCE, "'strict-dynamic'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "manifest-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "report-uri": ["/csp-report/"],
    },
}

# Rate limits (hardening.rate_limits): BASTION_RATE_LIMIT_<RULE>_<KEY>=N/s|m|h|d, or "off".
BASTION_RATE_LIMITS = {name.removeprefix("BASTION_RATE_LIMIT_"): value.strip()
                       for name, value in os.environ.items() if name.startswith("BASTION_RATE_LIMIT_")}

# /.well-known/security.txt (RFC 9116)
BASTION_SECURITY_CONTACTS = [contact for contact in env_list("BASTION_SECURITY_CONTACTS", [])
                             if contact.startswith("mailto:") and EMAIL_ADDRESS.match(contact.removeprefix("mailto:"))
                             or check_url("BASTION_SECURITY_CONTACTS", contact)]
BASTION_SECURITY_POLICY_URL = env("BASTION_SECURITY_POLICY_URL", "") or ""
if BASTION_SECURITY_POLICY_URL:
    BASTION_SECURITY_POLICY_URL = check_url("BASTION_SECURITY_POLICY_URL", BASTION_SECURITY_POLICY_URL)
BASTION_SECURITY_TXT_DAYS = env_int("BASTION_SECURITY_TXT_DAYS", 180, minimum=1)
BASTION_SECURITY_TXT_EXPIRES = None

# Vulnerability disclosure (incidents.disclosure): the public /security form and its timers, counted
# in business days on a working calendar (incidents.working_days): weekdays, holidays (ISO dates), zone.
BASTION_WORKING_DAYS = [day.strip().lower()[:3] for day in env_list("BASTION_WORKING_DAYS", ["mon", "tue", "wed", "thu", "fri"])]
if not BASTION_WORKING_DAYS or not set(BASTION_WORKING_DAYS) <= {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}:
    BASTION_WORKING_DAYS = report(ConfigError("BASTION_WORKING_DAYS lists weekdays: mon,tue,wed,thu,fri,sat,sun",
                                              check_id=UNKNOWN_VALUE), ["mon", "tue", "wed", "thu", "fri"])
BASTION_HOLIDAYS = []
for _holiday in env_list("BASTION_HOLIDAYS", []):
    try:
        BASTION_HOLIDAYS.append(datetime.date.fromisoformat(_holiday.strip()))
    except ValueError:
        report(ConfigError(f"BASTION_HOLIDAYS: {_holiday!r} is not a date (YYYY-MM-DD)"))
BASTION_BUSINESS_TIME_ZONE = env("BASTION_BUSINESS_TIME_ZONE", "UTC") or "UTC"
try:
    zoneinfo.ZoneInfo(BASTION_BUSINESS_TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    BASTION_BUSINESS_TIME_ZONE = report(ConfigError(
        f"BASTION_BUSINESS_TIME_ZONE: {BASTION_BUSINESS_TIME_ZONE!r} is not an IANA time zone (e.g. Europe/London)",
        check_id=UNKNOWN_VALUE), "UTC")
BASTION_DISCLOSURE_ACKNOWLEDGE_DAYS = env_int("BASTION_DISCLOSURE_ACKNOWLEDGE_DAYS", 2, minimum=1)
BASTION_DISCLOSURE_TRIAGE_DAYS = env_int("BASTION_DISCLOSURE_TRIAGE_DAYS", 5, minimum=1)
BASTION_DISCLOSURE_WINDOW_DAYS = env_int("BASTION_DISCLOSURE_WINDOW_DAYS", 90, minimum=1)
BASTION_SECURITY_REPORT_MAX_CHARS = env_int("BASTION_SECURITY_REPORT_MAX_CHARS", 20_000, minimum=1000, maximum=200_000)
# Incident response (incidents.response): response/resolution targets per severity (hours or business days).
try:
    BASTION_INCIDENT_TARGETS = incident_targets.parse(env("BASTION_INCIDENT_TARGETS", incident_targets.DEFAULT) or "")
except ValueError as exc:
    BASTION_INCIDENT_TARGETS = report(ConfigError(f"BASTION_INCIDENT_TARGETS: {exc}"),
                                      incident_targets.parse(incident_targets.DEFAULT))
# Breach notices (incidents.notifications): the contact point every notice gives (Art. 33(3)(b)), e.g. the
# data protection officer's name, email and telephone. Unset, staff must write it into each notice.
BASTION_BREACH_CONTACT_POINT = (env("BASTION_BREACH_CONTACT_POINT", "") or "").strip()
# Tabletop exercises: remind the platform's operators when none has run for this many days (twice a year).
BASTION_INCIDENT_EXERCISE_DAYS = env_int("BASTION_INCIDENT_EXERCISE_DAYS", 183, minimum=30)

# One cache shared by every app server (TOTP replay protection, rate limits): the database by
# default, Redis when REDIS_URL is set.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env("REDIS_URL")}
        if env("REDIS_URL")
        else {"BACKEND": "bastion.db.cache.NoEvictionDatabaseCache", "LOCATION": "bastion_cache"}
    )
}

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Object storage for evidence files and other artifacts (always encrypted before upload):
# a directory in the data dir, or S3-compatible storage given as
# BASTION_STORAGE_URL=s3://bucket[/prefix][?endpoint_url=https://…&region=…] (credentials: the
# standard AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or an instance role).
BASTION_STORAGE_URL = env("BASTION_STORAGE_URL", "")
try:
    _default_storage = object_storage(BASTION_STORAGE_URL, DATA_DIR / "objects")
except ConfigError as _exc:
    _default_storage = report(_exc, object_storage("", DATA_DIR / "objects"))
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Ephemeral artifacts (exports, temporary files) are deleted after use, or after this many days.
BASTION_EPHEMERAL_ARTIFACT_DAYS = env_int("BASTION_EPHEMERAL_ARTIFACT_DAYS", 14, minimum=1)

# Data protection (bastion.privacy, docs/privacy.md): how long a requested account or organisation
# deletion waits (cancellable from the emailed link), and the platform's retention defaults.
BASTION_ACCOUNT_DELETION_GRACE_DAYS = env_int("BASTION_ACCOUNT_DELETION_GRACE_DAYS", 30, minimum=0)
BASTION_ORGANISATION_DELETION_GRACE_DAYS = env_int("BASTION_ORGANISATION_DELETION_GRACE_DAYS", 30, minimum=0)
BASTION_RETENTION_RECORDS_DAYS = env_int("BASTION_RETENTION_RECORDS_DAYS", 2557, minimum=1)
BASTION_RETENTION_EVIDENCE_DAYS = env_int("BASTION_RETENTION_EVIDENCE_DAYS", 2557, minimum=1)
BASTION_RETENTION_SIGN_IN_HISTORY_DAYS = env_int("BASTION_RETENTION_SIGN_IN_HISTORY_DAYS", 365, minimum=1)
BASTION_RETENTION_SESSIONS_DAYS = env_int("BASTION_RETENTION_SESSIONS_DAYS", 30, minimum=1)
BASTION_PRIVACY_HOUR = env_int("BASTION_PRIVACY_HOUR", 2, minimum=0)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# May any signed-in user found an organisation? Off: only platform staff can.
BASTION_SELF_SERVICE_ORGANISATIONS = env_bool("BASTION_SELF_SERVICE_ORGANISATIONS", True)

# Audit: a signed checkpoint every N events, and by the periodic job (every minute) for chains whose
# oldest unsigned event is BASTION_AUDIT_CHECKPOINT_SECONDS old. Verification fails for any event
# left unsigned (or any checkpoint left unanchored) longer than twice that interval.
BASTION_AUDIT_CHECKPOINT_EVERY = env_int("BASTION_AUDIT_CHECKPOINT_EVERY", 1000, minimum=1)
BASTION_AUDIT_CHECKPOINT_SECONDS = env_int("BASTION_AUDIT_CHECKPOINT_SECONDS", 60, minimum=60)
if env("BASTION_AUDIT_CHECKPOINT_MINUTES"):  # the old setting: never silently ignored
    report(ConfigError("BASTION_AUDIT_CHECKPOINT_MINUTES is replaced by BASTION_AUDIT_CHECKPOINT_SECONDS "
                      "(default 60): unset it, and set that one if 60 seconds is not what you want", check_id=CONFLICT))
# Where every signed checkpoint is also written, out of the database owner's reach: a local
# append-only witness log (directory) or S3 with Object Lock in compliance mode.
BASTION_AUDIT_ANCHOR_URL = env("BASTION_AUDIT_ANCHOR_URL", "") or str(DATA_DIR / "witness")
with reported():
    check_anchor_url(BASTION_AUDIT_ANCHOR_URL)
BASTION_AUDIT_ANCHOR_RETENTION_DAYS = env_int("BASTION_AUDIT_ANCHOR_RETENTION_DAYS", 2557, minimum=1)
# Customers' witness webhooks must be HTTPS; plain HTTP only for local test receivers.
BASTION_AUDIT_WITNESS_ALLOW_HTTP = env_bool("BASTION_AUDIT_WITNESS_ALLOW_HTTP", False)
# SIEM webhooks and S3 endpoints (bastion.siem) must be HTTPS; plain HTTP only for local test receivers.
BASTION_SIEM_ALLOW_HTTP = env_bool("BASTION_SIEM_ALLOW_HTTP", False)

BASTION_AUDIT_VERIFY_HOUR = env_int("BASTION_AUDIT_VERIFY_HOUR", 3, minimum=0, maximum=23)

# Backups (bastion.backups): the local repository, the offsite one, the schedule and what is kept.
BASTION_BACKUP_DIR = env("BASTION_BACKUP_DIR", "") or str(DATA_DIR / "backups")
BASTION_BACKUP_URL = env("BASTION_BACKUP_URL", "") or ""
if BASTION_BACKUP_URL:
    from bastion.backups.repository import check_url as _check_backup_url

    with reported():
        _check_backup_url(BASTION_BACKUP_URL)
BASTION_BACKUP_ENABLED = env_bool("BASTION_BACKUP_ENABLED", True)
BASTION_BACKUP_KEEP_DAYS = env_int("BASTION_BACKUP_KEEP_DAYS", 30, minimum=1)
BASTION_BACKUP_KEEP_WEEKS = env_int("BASTION_BACKUP_KEEP_WEEKS", 4, minimum=0)
BASTION_BACKUP_KEEP_MONTHS = env_int("BASTION_BACKUP_KEEP_MONTHS", 6, minimum=0)
BASTION_BACKUP_DRILL_WEEKDAY = env_int("BASTION_BACKUP_DRILL_WEEKDAY", 0, minimum=0, maximum=6)  # 0 is Sunday
BASTION_PGBACKREST_CONFIG = env("BASTION_PGBACKREST_CONFIG", "") or ""
BASTION_PGBACKREST_STANZA = env("BASTION_PGBACKREST_STANZA", "") or "bastion"

# Keys: the KMS holding key-encryption keys, and how long an unwrapped data key stays in memory.
BASTION_KMS = env_choice("BASTION_KMS", "local", ("local", "aws-kms", "pkcs11"))
# pkcs11: the HSM's PKCS#11 module, the token (by label) and its PIN (BASTION_PKCS11_PIN or _FILE, read by
# crypto/hsm.py when it logs in, never kept here).
BASTION_PKCS11_LIBRARY = env("BASTION_PKCS11_LIBRARY", "") or ""
BASTION_PKCS11_TOKEN_LABEL = env("BASTION_PKCS11_TOKEN_LABEL", "") or ""
if BASTION_KMS == "pkcs11":
    check_pkcs11(BASTION_PKCS11_LIBRARY, BASTION_PKCS11_TOKEN_LABEL)
BASTION_AWS_KMS_ENDPOINT_URL = env("BASTION_AWS_KMS_ENDPOINT_URL", "")
if BASTION_AWS_KMS_ENDPOINT_URL:
    BASTION_AWS_KMS_ENDPOINT_URL = check_url("BASTION_AWS_KMS_ENDPOINT_URL", BASTION_AWS_KMS_ENDPOINT_URL,
                                             ("https", "http"))  # empty: AWS's own endpoint for the region
BASTION_AWS_REGION = env("BASTION_AWS_REGION") or env("AWS_DEFAULT_REGION") or "us-east-1"
if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d+", BASTION_AWS_REGION):
    BASTION_AWS_REGION = report(ConfigError(f"BASTION_AWS_REGION={BASTION_AWS_REGION!r} is not an AWS region "
                                            "(e.g. eu-west-1)"), "us-east-1")
# Residency (bastion.disclosures): the region data stays in. `config check` and `serve` refuse storage,
# backup, anchor and KMS endpoints configured for another region. Empty: no region declared (a warning).
BASTION_REGION = env("BASTION_REGION", "") or ""
# Where the build's supply-chain results are (scripts/supply_chain.py writes sbom.cdx.json and
# dependency-audit.json there); the trust page publishes them.
BASTION_SUPPLY_CHAIN_DIR = Path(env("BASTION_SUPPLY_CHAIN_DIR", "") or BASE_DIR.parents[1] / "dist")
if BASTION_REGION and not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d+", BASTION_REGION):
    BASTION_REGION = report(ConfigError(f"BASTION_REGION={BASTION_REGION!r} is not a region (e.g. eu-central-1)"), "")
# The published sub-processor list: JSON `[{"name", "purpose", "location", "safeguards"}, …]` or a file path.
from bastion.disclosures.subprocessors import parse as _parse_subprocessors  # noqa: E402

try:
    BASTION_SUBPROCESSORS = _parse_subprocessors(env("BASTION_SUBPROCESSORS", "") or "")
except ConfigError as _exc:
    BASTION_SUBPROCESSORS = report(_exc, [])
BASTION_KEY_MAX_AGE_DAYS = env_int("BASTION_KEY_MAX_AGE_DAYS", 365, minimum=1)
BASTION_DATA_KEY_CACHE_SECONDS = env_int("BASTION_DATA_KEY_CACHE_SECONDS", 300, minimum=0)

# Background and periodic jobs (Huey): SQLite in the data dir by default, Redis across machines.
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    REDIS_URL = check_url("REDIS_URL", REDIS_URL, ("redis", "rediss", "unix")) or None
HUEY = {
    "name": "bastion",
    # Huey's own classes, whose scheduler claims each periodic run once across every worker.
    "huey_class": f"bastion.operations.periodic_claims.{'RedisHuey' if REDIS_URL else 'SqliteHuey'}",
    "immediate": env_bool("BASTION_JOBS_IMMEDIATE", False),
    "connection": {"url": REDIS_URL} if REDIS_URL else {"filename": str(DATA_DIR / "jobs.sqlite3")},
    "consumer": {"workers": 2, "worker_type": "thread"},
}

# The public status page (operations): probes run each minute; their history is kept this many days.
# BASTION_STATUS_PROBE_URL is where the web, API and sign-in probes send real requests (`bastion serve`
# sets its own address); without it they go through Django's request handler in the job's process.
BASTION_STATUS_PROBE_URL = env("BASTION_STATUS_PROBE_URL", "") or ""
BASTION_STATUS_SLOW_SECONDS = env_int("BASTION_STATUS_SLOW_SECONDS", 3, minimum=1)  # slower probes: degraded
BASTION_STATUS_HISTORY_DAYS = env_int("BASTION_STATUS_HISTORY_DAYS", 365, minimum=90)
BASTION_STATUS_CONFIRM_SECONDS = env_int("BASTION_STATUS_CONFIRM_SECONDS", 48 * 3600, minimum=600)

# Who hears of a broken audit chain (and, later, of other platform alarms).
BASTION_ALERT_EMAILS = _email_addresses("BASTION_ALERT_EMAILS", env_list("BASTION_ALERT_EMAILS", []))
BASTION_ALERT_WEBHOOK = env("BASTION_ALERT_WEBHOOK", "") or ""
if BASTION_ALERT_WEBHOOK:
    BASTION_ALERT_WEBHOOK = check_url("BASTION_ALERT_WEBHOOK", BASTION_ALERT_WEBHOOK, ("https", "http"))

# Security monitoring (operations.security_monitoring): rules over the audit stream, run each minute.
# No GeoIP database is available offline, so a "country-sized network" is an address prefix:
# IPv4 /16 and IPv6 /32 by default (a new network is one whose prefix the account or key never used).
BASTION_SECURITY_NETWORK_PREFIX_V4 = env_int("BASTION_SECURITY_NETWORK_PREFIX_V4", 16, minimum=8)
BASTION_SECURITY_NETWORK_PREFIX_V6 = env_int("BASTION_SECURITY_NETWORK_PREFIX_V6", 32, minimum=16)
if BASTION_SECURITY_NETWORK_PREFIX_V4 > 32 or BASTION_SECURITY_NETWORK_PREFIX_V6 > 128:
    raise ConfigError("BASTION_SECURITY_NETWORK_PREFIX_V4 is at most 32 and BASTION_SECURITY_NETWORK_PREFIX_V6 at most 128")
# How far back "known" networks, devices and API-key networks are looked for.
BASTION_SECURITY_HISTORY_DAYS = env_int("BASTION_SECURITY_HISTORY_DAYS", 90, minimum=1)
# Brute force: this many failed (or refused) sign-ins at one account within the window.
BASTION_SECURITY_BRUTE_FORCE_FAILURES = env_int("BASTION_SECURITY_BRUTE_FORCE_FAILURES", 10, minimum=2)
BASTION_SECURITY_BRUTE_FORCE_WINDOW_SECONDS = env_int("BASTION_SECURITY_BRUTE_FORCE_WINDOW_SECONDS", 900, minimum=60)
# Password spraying: this many accounts, each tried at most _MAX_PER_ACCOUNT times, from one network.
BASTION_SECURITY_SPRAY_ACCOUNTS = env_int("BASTION_SECURITY_SPRAY_ACCOUNTS", 10, minimum=2)
BASTION_SECURITY_SPRAY_MAX_PER_ACCOUNT = env_int("BASTION_SECURITY_SPRAY_MAX_PER_ACCOUNT", 3, minimum=1)
BASTION_SECURITY_SPRAY_WINDOW_SECONDS = env_int("BASTION_SECURITY_SPRAY_WINDOW_SECONDS", 3600, minimum=60)
# A burst of exports or evidence downloads: this many by one user or API key within the window.
BASTION_SECURITY_EXPORT_BURST = env_int("BASTION_SECURITY_EXPORT_BURST", 20, minimum=2)
BASTION_SECURITY_EXPORT_WINDOW_SECONDS = env_int("BASTION_SECURITY_EXPORT_WINDOW_SECONDS", 600, minimum=60)

# Uploads: evidence files are checked against this limit before they are stored.
BASTION_EVIDENCE_MAX_BYTES = env_int("BASTION_EVIDENCE_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
BASTION_CSV_MAX_BYTES = env_int("BASTION_CSV_MAX_BYTES", 5 * 1024 * 1024, minimum=1024)
BASTION_CSV_MAX_ROWS = env_int("BASTION_CSV_MAX_ROWS", 10_000, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Email: SMTP when BASTION_SMTP_HOST is set (production), else printed to the console (the demo).
EMAIL_HOST = env("BASTION_SMTP_HOST", "") or ""
EMAIL_PORT = env_int("BASTION_SMTP_PORT", 587, minimum=1, maximum=65535)
EMAIL_HOST_USER = env("BASTION_SMTP_USER", "") or ""
EMAIL_HOST_PASSWORD = env("BASTION_SMTP_PASSWORD", "") or ""  # or BASTION_SMTP_PASSWORD_FILE
EMAIL_USE_SSL = env_bool("BASTION_SMTP_SSL", False)  # implicit TLS (port 465)
EMAIL_USE_TLS = env_bool("BASTION_SMTP_STARTTLS", not EMAIL_USE_SSL)
if EMAIL_USE_SSL and EMAIL_USE_TLS:  # Django refuses to send with both
    report(ConfigError("BASTION_SMTP_SSL and BASTION_SMTP_STARTTLS are both on: choose one (SSL for port 465)",
                       check_id=CONFLICT))
    EMAIL_USE_TLS = False
EMAIL_TIMEOUT = 10
BASTION_EMAIL_DELIVERY_BACKEND = env("BASTION_EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend")
# Sends through BASTION_EMAIL_DELIVERY_BACKEND, counting the messages it fails to send (a metric).
EMAIL_BACKEND = "bastion.operations.email_backend.MeteredEmailBackend"

# Logs on standard output: JSON lines (`bastion serve` and `bastion worker` default to it) or a
# readable console format (the demo, development); structlog, see bastion.operations.logs.
BASTION_LOG_FORMAT = env_choice("BASTION_LOG_FORMAT", "console", tuple(LOG_FORMATS))
LOGGING = logging_config(BASTION_LOG_FORMAT,
                         env_choice("BASTION_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")))

# /metrics (Prometheus): a scraper holding this bearer token, or connecting from these networks.
BASTION_METRICS_TOKEN = env("BASTION_METRICS_TOKEN", "") or ""
if BASTION_METRICS_TOKEN and len(BASTION_METRICS_TOKEN) < 24:
    BASTION_METRICS_TOKEN = report(ConfigError("BASTION_METRICS_TOKEN is too short: use at least 24 random characters",
                                               check_id=OUT_OF_RANGE), "")
BASTION_METRICS_ALLOWED_NETWORKS = []
for _network in env_list("BASTION_METRICS_ALLOWED_NETWORKS", []):
    try:
        BASTION_METRICS_ALLOWED_NETWORKS.append(ipaddress.ip_network(_network, strict=True))
    except ValueError as exc:
        report(ConfigError(f"BASTION_METRICS_ALLOWED_NETWORKS: {_network!r} is not a network ({exc})"))

config.finish_reading()
