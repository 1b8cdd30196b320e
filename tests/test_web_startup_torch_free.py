"""The web process starts without torch, transformers, trl, peft or matplotlib.

A fresh interpreter (a subprocess: this test process has long imported them) loads the WSGI application and every
view behind the URL conf, then reports which of the heavy modules it holds. It then draws one staff chart, which
must load matplotlib: that shows both that charts load it on demand and that the check can see a loaded module.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HEAVY = ["torch", "transformers", "trl", "peft", "matplotlib"]

PROBE = f"""
import json, sys
import aes_site.wsgi
import aes_site.urls
from django.urls import get_resolver
get_resolver().resolve("/rounds/")  # loads every URL pattern and its view module
heavy = {HEAVY!r}
at_start = [name for name in heavy if name in sys.modules]
from labeling import charts
charts.bar_chart_png({{"5.0": 0.4}}, "MAE per true band")
print(json.dumps({{"at_start": at_start, "after_chart": [name for name in heavy if name in sys.modules]}}))
"""


def test_wsgi_and_urls_load_without_torch_or_matplotlib():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["DJANGO_SETTINGS_MODULE"] = "aes_site.settings"
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded["at_start"] == []
    assert loaded["after_chart"] == ["matplotlib"]
