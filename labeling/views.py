from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render

from .models import Essay, FirstBatch, ModelVersion, TrainingRound
from .roles import is_staff_member


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
        "first_batch": first_batch.progress() if first_batch else None,
        "essay_counts": {
            split: Essay.objects.filter(split=split).count() for split in ("train", "val", "test", "pool")
        },
        "rounds": TrainingRound.objects.all()[:5],
        "promoted": {kind: ModelVersion.promoted(kind) for kind in ("scorer", "rewriter")},
    }
    return render(request, "home.html", context)
