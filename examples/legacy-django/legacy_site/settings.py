"""Settings for the small "legacy" Django site used by Switchyard's tests.

Deliberately minimal: no database, no sessions, no auth, no static files.
The site is served by gunicorn as ``legacy_site.wsgi:application`` from the
``examples/legacy-django`` directory.
"""

import os

SECRET_KEY = os.environ.get(
    "DJANGO_SECRET_KEY", "switchyard-legacy-django-not-a-secret"
)
DEBUG = False
ALLOWED_HOSTS = ["*"]

# Behind the Switchyard proxy: trust its forwarding headers.
USE_X_FORWARDED_HOST = True
USE_X_FORWARDED_PORT = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# X-Forwarded-Prefix is handled by the WSGI middleware in legacy_site/wsgi.py
# (Django has no setting for it).

ROOT_URLCONF = "legacy_site.urls"
WSGI_APPLICATION = "legacy_site.wsgi.application"

INSTALLED_APPS = []
MIDDLEWARE = [
    # CommonMiddleware implements APPEND_SLASH (default True): GET /hello
    # answers 301 -> /hello/.
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]

DATABASES = {}
TEMPLATES = []
USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = False

# Large uploads to /echo/ are read in full; don't reject them.
DATA_UPLOAD_MAX_MEMORY_SIZE = None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django": {"handlers": ["stderr"], "level": "WARNING"},
    },
}
