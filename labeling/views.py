from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from .models import FirstBatch, ModelVersion, TrainingRound
from .roles import is_staff_member
from .staff_home import getting_started

FAVICON = Path(__file__).resolve().parent / "static" / "labeling" / "favicon.svg"


def favicon(request):
    """/favicon.ico, which browsers ask for whatever the page's <link rel=icon> says: the site's SVG icon."""
    response = HttpResponse(FAVICON.read_bytes(), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})


@login_required
def home(request):
    if not is_staff_member(request.user):
        return redirect("rater_home")
    first_batch = FirstBatch.latest()
    context = {
        "checklist": getting_started(),
        "first_batch": first_batch.progress() if first_batch else None,
        "rounds": TrainingRound.objects.all()[:5],
        "promoted": {kind: ModelVersion.promoted(kind) for kind in ("scorer", "rewriter")},
    }
    return render(request, "home.html", context)
