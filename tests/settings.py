"""Settings for the test suite: the site's own settings, with test-friendly environment.

Values already in the environment win, so `DATABASE_URL=... pytest` runs on PostgreSQL.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-000000")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SECURE_COOKIES", "0")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")
os.environ.setdefault("WHITENOISE_USE_FINDERS", "1")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

from registry_site.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Look static files up when one is requested instead of scanning every app's static folder
# each time a test client builds the middleware, which cost about 0.1 s per test.
WHITENOISE_AUTOREFRESH = True

# Tests never run collectstatic; an empty folder keeps whitenoise from warning on every
# request that the collected-files folder is missing.
STATIC_ROOT.mkdir(exist_ok=True)  # noqa: F405
