import hashlib

from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

ECHO_TEXT_LIMIT = 4096


@require_GET
def hello(request):
    return JsonResponse({"message": "Hello from Django!"})


@require_GET
def whoami(request):
    return JsonResponse(
        {
            "url": request.build_absolute_uri(reverse("whoami")),
            "path": request.path,
            "script_name": request.META.get("SCRIPT_NAME", ""),
            "scheme": request.scheme,
            "host": request.get_host(),
        }
    )


@csrf_exempt
def echo(request):
    # request.body reads CONTENT_LENGTH bytes; chunked uploads were buffered
    # and given a CONTENT_LENGTH by the middleware in wsgi.py.
    body = request.body
    query = request.META.get("QUERY_STRING", "")
    return JsonResponse(
        {
            "method": request.method,
            "path": request.path,
            "full_path": request.path + ("?" + query if query else ""),
            "query": query,
            "raw_uri": request.META.get("RAW_URI"),
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "body_length": len(body),
            "body_text": body.decode("utf-8", errors="replace")[:ECHO_TEXT_LIMIT],
        }
    )


@require_GET
def health(request):
    return HttpResponse("ok", content_type="text/plain")
