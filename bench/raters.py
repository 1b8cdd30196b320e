"""Load test of the rater workspace: N simulated raters against gunicorn + PostgreSQL on 127.0.0.1.

    python bench/raters.py [--raters 50] [--seconds 30] [--items 1500] [--k 2] [--workers 3] [--threads 8]

Creates a throw-away database (default aes_bench_raters), migrates it, seeds essays (bundled pool essays with one to
three small changes each, plus banded val essays as gold, some of them gold edits), starts gunicorn on a free port,
and runs one thread per rater: "Next" (POST), open the pair (GET), submit (POST) with bands and a verdict on most of
the pair's changes; some raters double-submit or skip, as people do. Simulated raters answer at machine speed, so
every rating is under the minimum reading time and held for review: after the run two reviewers approve the held
ratings at once, which must pay each exactly once. Then it stops gunicorn, checks the database and drops it.

Prints requests/s, p50/p95 latency of "next" and "submit", the median time a simulated rater needs per pair (Next,
page, submit), and the checks: items over K = 0, lost ratings = 0, lost verdicts = 0, double payments = 0, the
ledger equal to the pay of every approved rating. The last line is one JSON object.
"""

import argparse
import csv
import http.client
import json
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

BANDS = [b / 2 for b in range(6, 19)]  # what simulated raters answer: 3.0 .. 9.0
SKIP_SHARE = 0.03
DOUBLE_SUBMIT_SHARE = 0.05
VERDICT_SHARE = 0.8  # share of a pair's changes a simulated rater gives a verdict on
EDIT_FIELD = re.compile(r'name="(edit_\d+)"')
# Small changes standing in for the rewriter's output: the first three that apply are made.
LIGHT_EDITS = [
    (" very ", " really "),
    (" a lot of ", " many "),
    (" peoples ", " people "),
    (" In conclusion ", " To conclude, "),
]


@dataclass
class BenchConfig:
    raters: int = 50
    seconds: float = 30.0
    items: int = 1500
    k: int = 2
    gold_share: float = 0.1
    workers: int = 3
    threads: int = 8
    database: str = "aes_bench_raters"
    pg: str = "postgres://postgres@127.0.0.1:5432"
    keep_db: bool = False


@dataclass
class ClientLog:
    next_ms: list[float] = field(default_factory=list)
    page_ms: list[float] = field(default_factory=list)
    submit_ms: list[float] = field(default_factory=list)
    pair_ms: list[float] = field(default_factory=list)  # Next, page and submit of one rated pair
    submitted: set[str] = field(default_factory=set)  # tokens whose submit the server confirmed
    verdicts: dict[str, int] = field(
        default_factory=dict
    )  # token -> per-change verdicts sent with the confirmed submit
    skipped: int = 0
    double_submits: int = 0
    empty: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.next_ms) + len(self.page_ms) + len(self.submit_ms) + self.double_submits


# ---------------------------------------------------------------- database and server


def admin_sql(config: BenchConfig, sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{config.pg}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def setup_django(config: BenchConfig) -> dict:
    env = {
        "DATABASE_URL": f"{config.pg}/{config.database}",
        "DEBUG": "0",  # no per-request query log; the production profile then wants a real key and host names
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_COOKIES": "0",  # plain HTTP on 127.0.0.1
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "aes_site.settings",
    }
    os.environ.update(env)
    import django

    django.setup()
    return env


def read_csv(path: Path, limit: int) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [row for _, row in zip(range(limit), csv.DictReader(handle), strict=False)]


def light_edit(text: str) -> str:
    """One to three small deterministic changes, standing in for the rewriter's output."""
    made = 0
    for before, after in LIGHT_EDITS:
        if before in text and made < 3:
            text = text.replace(before, after, 1)
            made += 1
    return text if made else text.rstrip() + " This is my view."


def seed(config: BenchConfig) -> tuple[int, int]:
    """Essays, rewrites and rating items; returns (items, gold items)."""
    from django.db import transaction

    from labeling.models import Essay, Prompt, Rewrite, Split, TrainingRound
    from labeling.rating.batches import create_rating_items
    from rl.text import text_hash

    n_gold = max(1, round(config.items * config.gold_share))
    pool_rows = read_csv(REPO / "data/raw/duwuonline_just_tasks.csv", config.items * 2)
    gold_rows = read_csv(REPO / "data/chillies_clean/val.csv", n_gold * 2)
    with transaction.atomic():
        prompts: dict[str, Prompt] = {}

        def prompt_of(question: str) -> Prompt:
            if question not in prompts:
                prompts[question], _ = Prompt.objects.get_or_create(
                    text_hash=text_hash(question), defaults={"text": question}
                )
            return prompts[question]

        essays, seen = [], set()
        for rows, split, text_key, band_key in (
            (pool_rows, Split.POOL, "paragraph", None),
            (gold_rows, Split.VAL, "essay", "overall"),
        ):
            wanted = config.items - n_gold if split == Split.POOL else n_gold
            taken = 0
            for row in rows:
                text = (row.get(text_key) or "").strip()
                band = row.get(band_key) if band_key else None
                if taken >= wanted or not text or text_hash(text) in seen:
                    continue
                seen.add(text_hash(text))
                essays.append(
                    Essay(
                        prompt=prompt_of(row["question"].strip()),
                        text=text,
                        text_hash=text_hash(text),
                        origin="bench",
                        split=split,
                        band=band if band else None,
                    )
                )
                taken += 1
        essays = Essay.objects.bulk_create(essays)
        earlier, current = TrainingRound.objects.create(number=1), TrainingRound.objects.create(number=2)
        rewrites = Rewrite.objects.bulk_create(
            [
                Rewrite(
                    essay=e,
                    text=light_edit(e.text),
                    training_round=current if e.split == Split.POOL else earlier,
                    chars_changed=10,
                )
                for e in essays
            ]
        )
    pool = [r for r, e in zip(rewrites, essays, strict=True) if e.split == Split.POOL]
    summary = create_rating_items(current, pool, k=config.k, gold_share=config.gold_share)
    return summary.items, summary.gold_items


def make_sessions(n: int) -> list[tuple[str, str]]:
    """(username, session key) per rater: sessions are written directly, so the load test does not measure
    password hashing (a login costs ~0.3 s of PBKDF2)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore

    from labeling.roles import make_rater

    password = make_password("bench-password-1")
    sessions = []
    for i in range(n):
        user = get_user_model().objects.create(username=f"bench{i:03d}", password=password)
        make_rater(user)
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        sessions.append((user.username, store.session_key))
    return sessions


def free_port() -> int:
    from aes_site.services import free_port as find

    return find()


def start_gunicorn(config: BenchConfig, env: dict, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "aes_site.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(config.workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(config.threads),
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env={**os.environ, **env},
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


# ---------------------------------------------------------------- simulated raters


class Browser:
    """A keep-alive HTTP client with a cookie jar of its own; enough of a browser for these forms."""

    def __init__(self, port: int, session_key: str):
        self.port = port
        self.cookies = {"sessionid": session_key}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if method == "POST":
            body = urllib.parse.urlencode(form or {})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                text = response.read().decode("utf-8", "replace")
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A keep-alive connection the server closed: reconnect once.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, response.headers.get("Location", ""), text


def timed(log: list[float], call):
    start = time.perf_counter()
    result = call()
    log.append((time.perf_counter() - start) * 1000)
    return result


def rater_loop(port: int, session_key: str, deadline: float, seed_value: int, log: ClientLog) -> None:
    rng = random.Random(seed_value)
    browser = Browser(port, session_key)
    status, _, _ = browser.request("GET", "/rate/")  # sets the CSRF cookie
    if status != 200:
        log.errors.append(f"home answered {status}")
        return
    while time.monotonic() < deadline:
        pair_started = time.perf_counter()
        status, location, _ = timed(log.next_ms, lambda: browser.request("POST", "/rate/next/"))
        if status != 302:
            log.errors.append(f"next answered {status}")
            continue
        if not location.startswith("/rate/a/"):
            log.empty += 1
            time.sleep(0.2)
            continue
        token = location.rstrip("/").split("/")[-1]
        status, _, page = timed(log.page_ms, lambda loc=location: browser.request("GET", loc))
        if status != 200:
            log.errors.append(f"pair page answered {status}")
            continue
        if rng.random() < SKIP_SHARE:
            status, _, _ = browser.request("POST", f"{location}skip/", {"reason": "broken_text", "then": "home"})
            log.skipped += status == 302
            continue
        form = {
            "band_a": rng.choice(BANDS),
            "band_b": rng.choice(BANDS),
            "better": rng.choice(["A", "B", "same"]),
            "active_seconds": rng.randint(60, 400),
            "comment": "",
            "then": "home",
        }
        verdicts = {name: rng.choice(["A", "B", "same"]) for name in EDIT_FIELD.findall(page)}
        form.update({name: value for name, value in verdicts.items() if rng.random() < VERDICT_SHARE})
        status, where, _ = timed(
            log.submit_ms, lambda loc=location, f=form: browser.request("POST", f"{loc}submit/", f)
        )
        if status != 302 or where != "/rate/":
            log.errors.append(f"submit answered {status} -> {where}")
            continue
        log.pair_ms.append((time.perf_counter() - pair_started) * 1000)
        log.submitted.add(token)
        log.verdicts[token] = sum(1 for name in form if name.startswith("edit_"))
        if rng.random() < DOUBLE_SUBMIT_SHARE:
            browser.request("POST", f"{location}submit/", form)
            log.double_submits += 1


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


# ---------------------------------------------------------------- checks


def approve_held_twice_at_once() -> int:
    """Two reviewers approve every held rating at the same moment; returns how many approvals took effect."""
    from django.db import connection

    from labeling.models import Rating
    from labeling.rating.actions import approve_ratings

    held = list(Rating.objects.filter(held=True, review_status="pending").values_list("pk", flat=True))
    approved = [0, 0]
    start = threading.Barrier(2)

    def review(slot: int) -> None:
        start.wait()
        try:
            approved[slot] = approve_ratings(Rating.objects.filter(pk__in=held), reviewer=None)
        finally:
            connection.close()

    reviewers = [threading.Thread(target=review, args=(slot,)) for slot in range(2)]
    for reviewer in reviewers:
        reviewer.start()
    for reviewer in reviewers:
        reviewer.join()
    return sum(approved)


def check(submitted: dict[str, int]) -> dict:
    from decimal import Decimal

    from django.db.models import Count, F, Sum

    from labeling.models import LedgerEntry, Rating, RatingItem
    from labeling.rating.assignment import items_over_k
    from labeling.rating.payments import pay_per_pair

    stored = set(Rating.objects.values_list("assignment__token", flat=True))
    verdicts_stored = dict(
        Rating.objects.annotate(n=Count("edit_verdicts")).values_list("assignment__token", "n").order_by()
    )
    held = Rating.objects.filter(held=True).count()
    approvals = approve_held_twice_at_once()
    paid_twice = (
        LedgerEntry.objects.filter(kind="earning").values("rating").annotate(n=Count("pk")).filter(n__gt=1).count()
    )
    ledger_total = LedgerEntry.objects.aggregate(total=Sum("amount"))["total"] or Decimal("0")
    counters_off = sum(1 for item in RatingItem.objects.annotate(n=Count("ratings")) if item.n != item.ratings_done)
    return {
        "ratings_stored": len(stored),
        "items_complete": RatingItem.objects.filter(ratings_done__gte=F("ratings_needed")).count(),
        "items_over_k": items_over_k(),
        "lost_ratings": len(set(submitted) - stored),
        "unconfirmed_ratings": len(stored - set(submitted)),
        "edit_verdicts_sent": sum(submitted.values()),
        "edit_verdicts_stored": sum(verdicts_stored.values()),
        "lost_verdicts": sum(max(0, n - verdicts_stored.get(token, 0)) for token, n in submitted.items()),
        "gold_edit_items": RatingItem.objects.exclude(gold_edit={}).count(),
        "held_for_review": held,
        "held_approvals_applied": approvals,
        "double_payments": paid_twice,
        "ledger_matches_ratings": ledger_total == pay_per_pair() * len(stored),
        "item_counters_off": counters_off,
    }


def run(config: BenchConfig) -> dict:
    admin_sql(config, f'DROP DATABASE IF EXISTS "{config.database}" WITH (FORCE)')
    admin_sql(config, f'CREATE DATABASE "{config.database}"')
    server = None
    try:
        env = setup_django(config)
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0)
        items, gold = seed(config)
        sessions = make_sessions(config.raters)
        connections.close_all()
        port = free_port()
        server = start_gunicorn(config, env, port)
        print(
            f"seeded {items} items ({gold} gold, K={config.k}); {config.raters} raters; gunicorn "
            f"{config.workers}x{config.threads} threads on :{port}; running {config.seconds:.0f} s ...",
            flush=True,
        )
        logs = [ClientLog() for _ in sessions]
        started = time.monotonic()
        deadline = started + config.seconds
        threads = [
            threading.Thread(target=rater_loop, args=(port, key, deadline, i, logs[i]))
            for i, (_, key) in enumerate(sessions)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    merged = ClientLog()
    for log in logs:
        merged.next_ms += log.next_ms
        merged.page_ms += log.page_ms
        merged.submit_ms += log.submit_ms
        merged.pair_ms += log.pair_ms
        merged.submitted |= log.submitted
        merged.verdicts.update(log.verdicts)
        merged.skipped += log.skipped
        merged.double_submits += log.double_submits
        merged.empty += log.empty
        merged.errors += log.errors
    checks = check(merged.verdicts)
    from django.db import connections

    connections.close_all()
    if not config.keep_db:
        admin_sql(config, f'DROP DATABASE IF EXISTS "{config.database}" WITH (FORCE)')
    return {
        "raters": config.raters,
        "seconds": round(elapsed, 1),
        "requests": merged.requests,
        "requests_per_s": round(merged.requests / elapsed, 1),
        "pairs_rated_per_s": round(len(merged.submitted) / elapsed, 1),
        "next_p50_ms": round(percentile(merged.next_ms, 50), 1),
        "next_p95_ms": round(percentile(merged.next_ms, 95), 1),
        "page_p50_ms": round(percentile(merged.page_ms, 50), 1),
        "submit_p50_ms": round(percentile(merged.submit_ms, 50), 1),
        "submit_p95_ms": round(percentile(merged.submit_ms, 95), 1),
        "pair_p50_ms": round(percentile(merged.pair_ms, 50), 1),
        "submits_confirmed": len(merged.submitted),
        "double_submits_sent": merged.double_submits,
        "skips": merged.skipped,
        "nothing_waiting": merged.empty,
        "client_errors": len(merged.errors),
        **checks,
    }


def main() -> None:
    defaults = BenchConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raters", type=int, default=defaults.raters)
    parser.add_argument("--seconds", type=float, default=defaults.seconds)
    parser.add_argument("--items", type=int, default=defaults.items)
    parser.add_argument("--k", type=int, default=defaults.k)
    parser.add_argument("--workers", type=int, default=defaults.workers)
    parser.add_argument("--threads", type=int, default=defaults.threads)
    parser.add_argument("--database", default=defaults.database)
    parser.add_argument("--pg", default=defaults.pg, help="PostgreSQL server URL without a database name")
    parser.add_argument("--keep-db", action="store_true")
    config = BenchConfig(**vars(parser.parse_args()))
    result = run(config)
    width = max(map(len, result))
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    ok = all(result[key] == 0 for key in ("items_over_k", "lost_ratings", "lost_verdicts", "double_payments"))
    ok = ok and result["held_approvals_applied"] == result["held_for_review"]
    print("checks:", "OK" if ok and result["ledger_matches_ratings"] else "FAILED")
    print(json.dumps(result))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
