"""
A Django REST framework API that trusts Gatehouse's tokens through django-oauth-toolkit's
resource-server mode: every bearer token it has not seen is introspected at Gatehouse (RFC 7662)
with the API's own client credentials (a `gatehouse clients create --kind resource-server`).
Configured from the environment, as a deployment would be.
"""
import os

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "oauth2_provider",
    "rest_framework",
]
ROOT_URLCONF = "courses.urls"
WSGI_APPLICATION = "courses.wsgi.application"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["DJANGO_DATABASE"]}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

# django-oauth-toolkit 1.7 turns the introspection answer's `exp` (seconds since the epoch, UTC)
# into a wall-clock time read in TIME_ZONE: anything but UTC moves a cached token's expiry by the
# zone's offset (east of UTC, a 10-minute token looks expired on arrival and is refused).
TIME_ZONE = "UTC"
USE_TZ = True

OAUTH2_PROVIDER = {
    "RESOURCE_SERVER_INTROSPECTION_URL": os.environ["GATEHOUSE_INTROSPECTION_URL"],
    "RESOURCE_SERVER_INTROSPECTION_CREDENTIALS": (
        os.environ["GATEHOUSE_CLIENT_ID"],
        os.environ["GATEHOUSE_CLIENT_SECRET"],
    ),
    # An introspected token is kept in the database and trusted without asking again until its
    # `exp` or this many seconds, whichever is sooner: the longest a revoked token (or a scope
    # Gatehouse has taken back) still works here. The default is 36000 (10 hours).
    "RESOURCE_SERVER_TOKEN_CACHING_SECONDS": int(os.environ.get("TOKEN_CACHING_SECONDS", "30")),
    # A 403 names the scopes the request needed.
    "ERROR_RESPONSE_WITH_SCOPES": True,
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["oauth2_provider.contrib.rest_framework.OAuth2Authentication"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
}
