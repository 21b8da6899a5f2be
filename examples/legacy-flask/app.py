"""A small "legacy" Flask application used by Switchyard's tests and benchmark.

Served by gunicorn as ``app:app`` (run from this directory), e.g.::

    /usr/bin/python3 -m gunicorn --bind 127.0.0.1:8001 --workers 2 app:app

The app sits behind ``werkzeug.middleware.proxy_fix.ProxyFix`` so that, when the
Switchyard proxy mounts it under a prefix and sends ``X-Forwarded-Prefix`` /
``X-Forwarded-Host`` / ``X-Forwarded-Proto`` / ``X-Forwarded-For``, ``url_for``
and ``request.remote_addr`` give the values a client of the proxy expects.

Shared state (per-path hit counts and the side-effect counter)
----------------------------------------------------------------
gunicorn runs several worker *processes*, so module-level dicts would be
per-worker and the counts the tests assert on would be wrong. The state lives
in a small JSON file, ``$LEGACY_STATE_DIR/state.json``; every read-modify-write
holds an exclusive ``fcntl.flock`` on that file (reads hold a shared one).

Why a locked file rather than shared memory created before fork:

* it does not depend on ``--preload`` (without it each worker imports the app
  on its own, after fork, so there is no common parent to create the memory),
  and it survives worker restarts (``--max-requests``, timeouts, crashes);
* ``flock`` is released by the kernel when a holder dies, so a worker killed
  mid-update can never leave the lock stuck;
* readers take a shared lock, so they never see a half-written document
  (a writer killed mid-write at worst resets the counts, never wedges);
* the test harness can inspect or wipe the state simply by looking at the
  directory; each gunicorn instance gets a fresh directory, so servers started
  concurrently do not share counts.

The cost (one small locked in-place read+write per request, some tens of
microseconds) is well below the cost of a gunicorn request and identical for
every route, so it does not distort proxy benchmarks.

If ``LEGACY_STATE_DIR`` is not set, a directory in the system temp dir named
after the *process group* is used: the gunicorn master and its workers share
a process group, so they agree on the directory without any coordination.
"""

import fcntl
import hashlib
import json
import os
import tempfile
import time
from contextlib import contextmanager

from flask import Flask, Response, jsonify, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

# --------------------------------------------------------------------------
# Cross-process state
# --------------------------------------------------------------------------

STATE_DIR = os.environ.get("LEGACY_STATE_DIR") or os.path.join(
    tempfile.gettempdir(), "legacy-flask-state-%d" % os.getpgrp()
)
os.makedirs(STATE_DIR, exist_ok=True)
_STATE_FILE = os.path.join(STATE_DIR, "state.json")

# Paths that are bookkeeping, not traffic: never counted in /__hits.
_UNCOUNTED_PREFIXES = ("/__hits", "/__health", "/__chaos")


def _empty_state():
    return {"hits": {}, "counter": 0}


def _parse_state(raw):
    try:
        data = json.loads(raw.decode("utf-8")) if raw else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return _empty_state()
    data.setdefault("hits", {})
    data.setdefault("counter", 0)
    return data


@contextmanager
def _locked_state(write=True):
    """Yield the shared state dict while holding the lock on the state file.

    With ``write=True`` the (possibly mutated) dict is written back in place
    before the lock is released; readers take a shared lock, so they never see
    a partial write. The file is rewritten in place rather than via a temp
    file + rename: on ext4 a rename over an existing file forces a data flush
    (auto_da_alloc), which made every request ~10x more expensive.
    """
    fd = os.open(_STATE_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if write else fcntl.LOCK_SH)
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        state = _parse_state(b"".join(chunks))
        yield state
        if write:
            data = json.dumps(state, sort_keys=True).encode("utf-8")
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, data)
            os.ftruncate(fd, len(data))
    finally:
        os.close(fd)  # also releases the flock


def _record_hit(path):
    """Counts the hit; returns the injected delay in ms (POST /__chaos/delay), 0 normally."""
    with _locked_state() as state:
        state["hits"][path] = int(state["hits"].get(path, 0)) + 1
        return int(state.get("chaos_delay_ms", 0))


class HitCounter:
    """WSGI middleware counting every request that reaches the app.

    Counting at the WSGI layer (rather than in a Flask hook) means 404s, 405s
    and requests that blow up inside a view are counted as well: "the legacy
    app received this request" is exactly what routing tests want to assert.
    PATH_INFO is the path relative to the app (a forwarded prefix lives in
    SCRIPT_NAME), so counts are keyed like the app's own routes.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO") or "/"
        if not path.startswith(_UNCOUNTED_PREFIXES):
            delay_ms = _record_hit(path)
            if delay_ms:
                # Chaos runs: every counted route answers this much later (outside the lock).
                time.sleep(delay_ms / 1000.0)
        return self.wsgi_app(environ, start_response)


# --------------------------------------------------------------------------
# The application
# --------------------------------------------------------------------------

app = Flask(__name__)
app.config["JSON_SORT_KEYS"] = False

MAX_SLOW_MS = 120_000
MAX_BIG_KB = 64 * 1024  # 64 MiB
ECHO_TEXT_LIMIT = 4096
_KIB_PATTERN = bytes(range(256)) * 4  # 1024 deterministic bytes: 00 01 .. ff x4


def _error(status, message):
    resp = jsonify({"error": message, "status": status})
    resp.status_code = status
    return resp


@app.errorhandler(HTTPException)
def _http_error(exc):
    # Legacy API: errors are JSON too, not werkzeug's HTML pages.
    resp = _error(exc.code or 500, exc.description or exc.name)
    if exc.code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
        resp.headers["Allow"] = ", ".join(exc.valid_methods)
    return resp


def _int_arg(name, default, maximum):
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        return None
    if value < 0 or value > maximum:
        return None
    return value


@app.get("/hello")
def hello():
    return jsonify({"message": "Hello from Flask!"})


@app.get("/users/<int:user_id>")
def get_user(user_id):
    if user_id > 1000:
        return _error(404, "user %d not found" % user_id)
    return jsonify({"id": user_id, "name": "user-%d" % user_id, "source": "flask"})


@app.get("/whoami")
def whoami():
    return jsonify(
        {
            "url": url_for("whoami", _external=True),
            "path": request.path,
            "script_root": request.script_root,
            "remote_addr": request.remote_addr,
            "scheme": request.scheme,
            "host": request.host,
        }
    )


_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@app.route("/echo", methods=_ALL_METHODS)
@app.route("/echo/<path:rest>", methods=_ALL_METHODS)
def echo(rest=None):
    # get_data() reads wsgi.input to EOF. gunicorn de-chunks
    # "Transfer-Encoding: chunked" bodies and sets wsgi.input_terminated, which
    # werkzeug honours, so chunked uploads arrive complete as well.
    body = request.get_data(cache=False)
    query = request.query_string.decode("latin-1")
    return jsonify(
        {
            "method": request.method,
            "path": request.path,
            "full_path": request.path + ("?" + query if query else ""),
            "query": query,
            # Not part of the documented shape, but handy to check that the
            # proxy forwards the request-target byte for byte.
            "raw_uri": request.environ.get("RAW_URI"),
            # Which connection it came on: a proxy's pooled connection keeps its port, so tests
            # can tell that two requests shared one upstream connection.
            "remote_port": request.environ.get("REMOTE_PORT"),
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "body_length": len(body),
            "body_text": body.decode("utf-8", errors="replace")[:ECHO_TEXT_LIMIT],
        }
    )


@app.get("/slow")
def slow():
    ms = _int_arg("ms", 0, MAX_SLOW_MS)
    if ms is None:
        return _error(400, "ms must be an integer between 0 and %d" % MAX_SLOW_MS)
    time.sleep(ms / 1000.0)
    return jsonify({"slept_ms": ms})


@app.get("/stall")
def stall():
    """Sends its headers and a first chunk, then goes silent for ms milliseconds before the
    rest: a backend that hangs mid-response."""
    ms = _int_arg("ms", 0, MAX_SLOW_MS)
    if ms is None:
        return _error(400, "ms must be an integer between 0 and %d" % MAX_SLOW_MS)

    def generate():
        yield b"first-chunk\n"
        time.sleep(ms / 1000.0)
        yield b"rest\n"

    return Response(generate(), mimetype="text/plain")


@app.get("/catalog")
def catalog():
    """A typical listing with the usual sources of diff noise: per-item timestamps and a
    generation time that change on every call."""
    now = time.time()
    return jsonify({
        "items": [
            {"id": 1, "name": "anvil", "updated_at": now},
            {"id": 2, "name": "rope", "updated_at": now},
        ],
        "tags": ["tools", "outdoor", "sale"],
        "price": 10.0,
        "total": 2,
        "generated_at": now,
    })


@app.get("/status/<int:code>")
def status(code):
    if code < 200 or code > 599:
        return _error(400, "status code must be between 200 and 599")
    if code in (204, 304):
        # These statuses must not carry a body.
        return Response(status=code)
    resp = jsonify({"status": code})
    resp.status_code = code
    return resp


@app.post("/counter/incr")
def counter_incr():
    with _locked_state() as state:
        state["counter"] = int(state.get("counter", 0)) + 1
        value = state["counter"]
    return jsonify({"value": value})


@app.get("/counter")
def counter_get():
    with _locked_state(write=False) as state:
        value = int(state.get("counter", 0))
    return jsonify({"value": value})


@app.get("/__hits")
def hits():
    with _locked_state(write=False) as state:
        data = dict(state["hits"])
    return jsonify(data)


@app.post("/__hits/reset")
def hits_reset():
    with _locked_state() as state:
        state.clear()
        state.update(_empty_state())
    return jsonify({"reset": True})


@app.post("/__chaos/delay")
def chaos_delay():
    """Chaos runs (bench/chaos): ?ms=N delays every counted request by N ms; ms=0 ends it."""
    ms = _int_arg("ms", 0, MAX_SLOW_MS)
    if ms is None:
        return _error(400, "ms must be an integer between 0 and %d" % MAX_SLOW_MS)
    with _locked_state() as state:
        state["chaos_delay_ms"] = ms
    return jsonify({"delay_ms": ms})


@app.get("/__health")
def health():
    return Response("ok", mimetype="text/plain")


@app.get("/big")
def big():
    kb = _int_arg("kb", 1, MAX_BIG_KB)
    if kb is None:
        return _error(400, "kb must be an integer between 0 and %d" % MAX_BIG_KB)
    return Response(_KIB_PATTERN * kb, mimetype="application/octet-stream")


# --------------------------------------------------------------------------
# Cache fixtures (Switchyard's response cache tests). Every body carries a
# fresh nonce, so a test can tell a cached copy from a new origin response;
# /__hits proves whether a request reached the app at all.
# --------------------------------------------------------------------------

import gzip as _gzip  # noqa: E402
import uuid as _uuid  # noqa: E402

_FIXED_LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT"


def _cache_body(**extra):
    query = request.query_string.decode("latin-1")
    body = {
        "nonce": _uuid.uuid4().hex,
        "path": request.path,
        "query": query,
        # Built from X-Forwarded-Host/-Proto/-Prefix (ProxyFix): what a cache
        # poisoning attempt would try to influence.
        "self_url": request.url,
        "authorized": "Authorization" in request.headers,
    }
    body.update(extra)
    return body


@app.get("/cacheable")
def cacheable():
    """Cache-Control from the query: max_age (default 60), s_maxage, swr, sie,
    private=1, must_revalidate=1; sleep_ms delays the answer (stampede tests)."""
    sleep_ms = _int_arg("sleep_ms", 0, MAX_SLOW_MS)
    if sleep_ms:
        time.sleep(sleep_ms / 1000.0)
    parts = ["private" if request.args.get("private") == "1" else "public"]
    max_age = _int_arg("max_age", 60, 10**9)
    parts.append("max-age=%d" % (max_age if max_age is not None else 60))
    for arg, directive in (("s_maxage", "s-maxage"), ("swr", "stale-while-revalidate"), ("sie", "stale-if-error")):
        value = _int_arg(arg, None, 10**9)
        if value is not None:
            parts.append("%s=%d" % (directive, value))
    if request.args.get("must_revalidate") == "1":
        parts.append("must-revalidate")
    resp = jsonify(_cache_body())
    resp.headers["Cache-Control"] = ", ".join(parts)
    return resp


@app.get("/private")
def private_page():
    resp = jsonify(_cache_body())
    resp.headers["Cache-Control"] = "private, max-age=60"
    return resp


@app.get("/nostore")
def nostore():
    resp = jsonify(_cache_body())
    resp.headers["Cache-Control"] = "no-store"
    return resp


@app.get("/cookie")
def cookie():
    resp = jsonify(_cache_body())
    resp.headers["Cache-Control"] = "public, max-age=60"
    resp.set_cookie("session", _uuid.uuid4().hex)
    return resp


@app.get("/auth")
def auth():
    """max-age only (not storable for an Authorization request in a shared
    cache), or with ?public=1 explicitly shareable."""
    resp = jsonify(_cache_body())
    resp.headers["Cache-Control"] = "public, max-age=60" if request.args.get("public") == "1" else "max-age=60"
    return resp


_GREETINGS = {"en": "hello", "fr": "bonjour", "de": "hallo"}


@app.route("/vary-lang", methods=["GET", "POST"])
def vary_lang():
    """Greets in the best Accept-Language; sleep_ms delays the answer. POST answers the same
    (a successful unsafe request: caches must invalidate the URL)."""
    sleep_ms = _int_arg("sleep_ms", 0, MAX_SLOW_MS)
    if sleep_ms and request.method == "GET":
        time.sleep(sleep_ms / 1000.0)
    lang = request.accept_languages.best_match(list(_GREETINGS)) or "en"
    resp = jsonify(_cache_body(lang=lang, greeting=_GREETINGS[lang]))
    resp.headers["Cache-Control"] = "public, max-age=60"
    resp.headers["Content-Language"] = lang
    resp.vary.add("Accept-Language")
    return resp


@app.get("/etag")
def etag():
    """Validators (ETag from a shared version counter, fixed Last-Modified);
    answers conditionals with 304. POST /etag/bump changes the content."""
    with _locked_state(write=False) as state:
        version = int(state.get("etag_version", 1))
    max_age = _int_arg("max_age", 1, 10**9)
    resp = jsonify({"version": version, "path": request.path})
    resp.set_etag("v%d" % version)
    resp.headers["Last-Modified"] = _FIXED_LAST_MODIFIED
    resp.headers["Cache-Control"] = "public, max-age=%d" % (max_age if max_age is not None else 1)
    return resp.make_conditional(request)


@app.post("/etag/bump")
def etag_bump():
    with _locked_state() as state:
        state["etag_version"] = int(state.get("etag_version", 1)) + 1
        version = state["etag_version"]
    return jsonify({"version": version})


@app.get("/nocache")
def nocache():
    """Storable but stale at once: every use must be revalidated (ETag)."""
    resp = jsonify({"path": request.path, "fixed": True})
    resp.set_etag("fixed")
    resp.headers["Cache-Control"] = "no-cache"
    return resp.make_conditional(request)


_GZIP_SOURCE = ("Switchyard caches this gzip body byte for byte. " * 200).encode("utf-8")
_GZIP_BYTES = _gzip.compress(_GZIP_SOURCE, mtime=0)


@app.get("/gzip")
def gzip_body():
    resp = Response(_GZIP_BYTES, mimetype="text/plain")
    resp.headers["Content-Encoding"] = "gzip"
    resp.headers["Cache-Control"] = "public, max-age=60"
    resp.vary.add("Accept-Encoding")
    return resp


@app.get("/binary")
def binary():
    """kb KiB of every byte value (0x00..0xff), cacheable."""
    kb = _int_arg("kb", 4, MAX_BIG_KB)
    if kb is None:
        return _error(400, "kb must be an integer between 0 and %d" % MAX_BIG_KB)
    resp = Response(_KIB_PATTERN * kb, mimetype="application/octet-stream")
    resp.headers["Cache-Control"] = "public, max-age=60"
    return resp


@app.get("/big-cacheable")
def big_cacheable():
    """Large but cacheable: kb KiB; chunked=1 streams it in 64 KiB pieces
    without Content-Length (a cache only learns its size while reading),
    delay_ms=N pauses between pieces, length=1 declares Content-Length."""
    kb = _int_arg("kb", 1024, MAX_BIG_KB)
    if kb is None:
        return _error(400, "kb must be an integer between 0 and %d" % MAX_BIG_KB)
    if request.args.get("chunked") == "1":
        delay_ms = _int_arg("delay_ms", 0, 1000) or 0

        def generate():
            for i in range(kb // 64):
                if delay_ms and i:
                    time.sleep(delay_ms / 1000.0)
                yield _KIB_PATTERN * 64
            if kb % 64:
                yield _KIB_PATTERN * (kb % 64)
        resp = Response(generate(), mimetype="application/octet-stream")
        if request.args.get("length") == "1":
            resp.headers["Content-Length"] = str(kb * 1024)
    else:
        resp = Response(_KIB_PATTERN * kb, mimetype="application/octet-stream")
    resp.headers["Cache-Control"] = "public, max-age=60"
    return resp


@app.get("/flaky")
def flaky():
    """public, max-age=1 (or ?max_age=N) and (unless ?sie=0) stale-if-error=60; answers 503
    while POST /flaky/mode?fail=1 is in force."""
    with _locked_state(write=False) as state:
        failing = bool(state.get("flaky_fail", False))
    if failing:
        return _error(503, "flaky is failing on purpose")
    resp = jsonify(_cache_body())
    sie = _int_arg("sie", 60, 10**9)
    max_age = _int_arg("max_age", 1, 10**9)
    if sie is None or max_age is None:
        return _error(400, "sie and max_age must be non-negative integers")
    resp.headers["Cache-Control"] = "public, max-age=%d" % max_age + (", stale-if-error=%d" % sie if sie else "")
    return resp


@app.post("/flaky/mode")
def flaky_mode():
    with _locked_state() as state:
        state["flaky_fail"] = request.args.get("fail") == "1"
        failing = state["flaky_fail"]
    return jsonify({"failing": failing})


_RESPOND_METHODS = _ALL_METHODS + ["M-SEARCH", "PURGE"]


def _header_args(name):
    pairs = []
    for item in request.args.getlist(name):
        header, sep, value = item.partition(":")
        if sep and header.strip():
            pairs.append((header.strip(), value.strip()))
    return pairs


@app.route("/respond/<path:name>", methods=_RESPOND_METHODS)
def respond(name):
    """A scripted response for cache conformance tests: ?status=N, each
    ?h=Name:Value becomes a response header (repeat a name for several lines);
    with ?c304=1 a conditional request (If-None-Match / If-Modified-Since) gets
    a 304 carrying the ?h304=Name:Value headers instead. ?interim=1 sends a
    103 Early Hints first (where the server supports it)."""
    if request.args.get("c304") == "1" and (request.headers.get("If-None-Match") or request.headers.get("If-Modified-Since")):
        resp = Response(status=304)
        resp.headers.remove("Content-Type")
        for header, value in _header_args("h304"):
            resp.headers.add(header, value)
        return resp
    code = _int_arg("status", 200, 599)
    if code is None or code < 200:
        return _error(400, "status must be between 200 and 599")
    resp = jsonify(_cache_body(name=name, method=request.method))
    resp.status_code = code
    for header, value in _header_args("h"):
        resp.headers.add(header, value)
    return resp


# --------------------------------------------------------------------------
# Demo fixture (npm run demo): a slow report that may be shared. Switchyard's
# response cache serves it, so only the first call of each 30 s waits.
# --------------------------------------------------------------------------

REPORT_BUILD_SECONDS = 1.5


@app.get("/report")
def report():
    """Takes REPORT_BUILD_SECONDS to build; public, max-age=30 (one copy per ?region=)."""
    time.sleep(REPORT_BUILD_SECONDS)
    region = request.args.get("region", "all")
    resp = jsonify({
        "region": region,
        "built_at": time.time(),
        "build_seconds": REPORT_BUILD_SECONDS,
        "rows": [{"day": d, "orders": 100 + d * 7} for d in range(1, 8)],
    })
    resp.headers["Cache-Control"] = "public, max-age=30"
    return resp


# Order matters: ProxyFix runs first and rewrites the environ (SCRIPT_NAME,
# HTTP_HOST, wsgi.url_scheme, REMOTE_ADDR); HitCounter then sees PATH_INFO,
# which ProxyFix leaves untouched.
app.wsgi_app = ProxyFix(
    HitCounter(app.wsgi_app), x_for=1, x_proto=1, x_host=1, x_prefix=1
)
