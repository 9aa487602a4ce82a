from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from kynect.core.selectors import database_ready, health_report


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    # The life situations' tiles come from the directory's context processor.
    return render(request, "core/home.html")


@require_safe
def health_coverage(request: HttpRequest) -> HttpResponse:
    return render(request, "core/health_coverage.html")


@require_safe
def help_page(request: HttpRequest) -> HttpResponse:
    return render(request, "core/help.html")


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """The whole platform: 503 when the database does not answer or no worker is alive (for monitoring)."""
    report = health_report()
    return JsonResponse(
        {
            "status": report.status,
            "database": {"ok": report.database_ok},
            "worker": {
                "alive": report.worker_alive,
                "heartbeat_age_seconds": (
                    round(report.heartbeat_age_seconds, 1)
                    if report.heartbeat_age_seconds is not None
                    else None
                ),
                "last_heartbeat_at": report.last_heartbeat_at.isoformat()
                if report.last_heartbeat_at
                else None,
            },
        },
        status=200 if report.status == "ok" else 503,
    )


@never_cache
@require_safe
def healthz_live(request: HttpRequest) -> JsonResponse:
    """Liveness: this process answers. It asks nothing of the database, so a database outage does not
    get every app server restarted."""
    return JsonResponse({"status": "alive"})


@never_cache
@require_safe
def healthz_ready(request: HttpRequest) -> JsonResponse:
    """Readiness: this app server can serve requests, because the database answers. The worker is not
    asked: pages work without it, so a dead worker must not take the app servers out of the balancer."""
    ready = database_ready()
    return JsonResponse(
        {"status": "ready" if ready else "not ready", "database": {"ok": ready}}, status=200 if ready else 503
    )
