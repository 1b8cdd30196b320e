from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render

from .models import ModelVersion, TrainingRound
from .roles import is_staff_member
from .staff_home import getting_started


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})


@login_required
def home(request):
    if not is_staff_member(request.user):
        return redirect("rater_home")
    context = {
        "checklist": getting_started(),
        "rounds": TrainingRound.objects.all()[:5],
        "promoted": {kind: ModelVersion.promoted(kind) for kind in ("scorer", "rewriter")},
    }
    return render(request, "home.html", context)
