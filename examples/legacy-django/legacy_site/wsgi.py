"""WSGI entry point: ``legacy_site.wsgi:application``.

Two small WSGI middlewares wrap Django:

* ``ForwardedPrefix`` — Django honours X-Forwarded-Host/-Proto via settings but
  has no notion of X-Forwarded-Prefix. When the proxy mounts the site under a
  prefix (e.g. ``/django``) and says so in that header, set SCRIPT_NAME to the
  prefix so ``reverse()``/``build_absolute_uri()`` produce prefixed URLs, and
  strip the prefix from PATH_INFO if the proxy forwarded the full path.
* ``BufferChunkedBody`` — Django reads exactly CONTENT_LENGTH bytes of the body
  and treats a missing length as an empty body. gunicorn de-chunks
  ``Transfer-Encoding: chunked`` uploads (and marks ``wsgi.input_terminated``)
  but cannot know the length up front, so buffer such bodies and set
  CONTENT_LENGTH, so chunked uploads reach the views intact.
"""

import io
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "legacy_site.settings")


class ForwardedPrefix:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        raw = environ.get("HTTP_X_FORWARDED_PREFIX", "")
        # With several proxies in a chain the header may hold a list; the
        # first entry is the outermost (client-facing) one.
        prefix = raw.split(",")[0].strip().rstrip("/")
        if prefix:
            if not prefix.startswith("/"):
                prefix = "/" + prefix
            path = environ.get("PATH_INFO", "")
            if path == prefix or path.startswith(prefix + "/"):
                environ["PATH_INFO"] = path[len(prefix):] or "/"
            environ["SCRIPT_NAME"] = prefix
        return self.app(environ, start_response)


class BufferChunkedBody:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH"):
            body = environ["wsgi.input"].read()
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)


application = ForwardedPrefix(BufferChunkedBody(get_wsgi_application()))
