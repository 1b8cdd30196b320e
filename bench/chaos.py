"""Chaos benchmark of training rounds: cpu-smoke rounds on real Celery workers, Celery beat, Redis and PostgreSQL on
127.0.0.1, with the GPU worker killed (SIGKILL) at N random moments across the steps and Redis killed (SIGKILL, no
persistence: every queued message is lost) once right after a step finished. Nobody watches: no page is open, only
the periodic sweep (Celery beat) notices. Simulated raters submit ratings on an earlier batch all along.

    python bench/chaos.py [--kills 10] [--rounds 2] [--heartbeat 8] [--sweep 2] [--seed 1]

Creates a throw-away database (default aes_bench_chaos), a Redis of its own and the processes `make run` starts (a
worker on the default queue, which runs the sweep, a worker on the gpu queue, beat). After each kill a new GPU worker
starts (the machine comes back); a round that ends failed is retried, as staff would. Prints one row per kill and the
checks; the last line is one JSON object: rounds, finished (succeeded, or failed with a reason, with nobody watching),
stuck (neither failed nor moving on within the heartbeat timeout plus one sweep), duplicate rewrites, rating items
and ledger entries, lost ratings, and the 95th percentile of the seconds from a kill until it was noticed.
"""

import argparse
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # round_helpers: the test suite's small real corpus

from raters import admin_sql, percentile  # noqa: E402 (bench/raters.py: PostgreSQL admin and percentiles)

# How late the sweep may be on a busy 2-core machine before a round counts as stuck.
SCHEDULING_SLACK = 10.0


@dataclass
class ChaosConfig:
    kills: int = 10
    rounds: int = 2
    heartbeat: float = 8.0
    sweep: float = 2.0
    seed: int = 1
    raters: int = 3
    database: str = "aes_bench_chaos"
    pg: str = "postgres://postgres@127.0.0.1:5432"
    keep_db: bool = False


@dataclass
class Event:
    """One kill and what followed it."""

    round_number: int
    what: str  # "worker" or "redis"
    during: str  # the step running (or just finished) when it happened
    outcome: str = "waiting"  # "failed: <reason>", "moved on", "stuck"
    seconds_to_detect: float | None = None


@dataclass
class RaterLog:
    confirmed: set[int] = field(default_factory=set)  # rating ids whose submit returned created=True
    errors: list[str] = field(default_factory=list)


class Process:
    """A child process of its own session (killpg kills it whole), its output in a log file."""

    def __init__(self, name: str, command: list[str], env: dict, folder: Path):
        self.name = name
        self.log_path = folder / f"{name}.log"
        self.proc = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=self.log_path.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_for(self, text: str, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log_path.read_text(errors="replace"):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} did not say {text!r}:\n{self.log_path.read_text(errors='replace')[-3000:]}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 9)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def worker(name: str, queues: str, env: dict, folder: Path) -> Process:
    from aes_site.devserver import solo_worker_command

    process = Process(name, solo_worker_command(name, queues), env, folder)
    process.wait_for("ready.")
    return process


def setup(config: ChaosConfig, folder: Path) -> dict:
    from aes_site.services import start_redis

    redis_proc, url = start_redis(folder / "redis", persistent=False)
    env = {
        **os.environ,
        "DATABASE_URL": f"{config.pg}/{config.database}",
        "REDIS_URL": url,
        "AES_HEARTBEAT_TIMEOUT": str(config.heartbeat),
        "AES_SWEEP_SECONDS": str(config.sweep),
        "AES_ARTIFACTS_DIR": str(folder / "artifacts"),
        "AES_TORCH_THREADS": os.environ.get("AES_TORCH_THREADS", "1"),
        "HF_HUB_OFFLINE": "1",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "aes_site.settings",
    }
    os.environ.update(env)
    import django

    django.setup()
    return {"env": env, "redis": redis_proc, "redis_url": url}


def seed(folder: Path, raters: int):
    """The small real corpus of the tests, and an earlier batch of pairs for the simulated raters."""
    from django.core.management import call_command
    from round_helpers import import_small_corpus

    from labeling.models import Essay, Prompt, Rewrite, Split
    from labeling.rating.batches import create_rating_items
    from labeling.roles import create_rater

    call_command("migrate", verbosity=0)
    import_small_corpus(folder, train=40, test=8, pool=12)
    prompt = Prompt.objects.create(text="Earlier batch: should cities ban cars from their centres? Discuss.")
    rewrites = []
    for i in range(60):
        # Test split without a band: never trained on, never evaluated on, never drawn by a round.
        essay = Essay.objects.create(prompt=prompt, text=f"Earlier essay {i}. Cars is a problem.", split=Split.TEST)
        rewrites.append(
            Rewrite.objects.create(essay=essay, text=f"Earlier essay {i}. Cars are a problem.", chars_changed=3)
        )
    create_rating_items(None, rewrites, k=2, gold_share=0.0, name="earlier batch")
    return [create_rater(f"chaos{i}", password="chaos-rater-pw-1")[0] for i in range(raters)]


def rate_continuously(raters, stop: threading.Event, log: RaterLog) -> None:
    """Simulated raters: Next, Submit (sometimes twice), as long as the bench runs; the database only."""
    from django.db import connection

    from labeling.rating.actions import RatingAnswer, submit_rating
    from labeling.rating.assignment import claim_next

    rng = random.Random(7)
    try:
        while not stop.is_set():
            rater = rng.choice(raters)
            assignment = claim_next(rater)
            if assignment is None:
                time.sleep(0.5)
                continue
            answer = RatingAnswer(Decimal(rng.choice(["5", "6", "7"])), Decimal("6.5"), "B", active_seconds=90)
            for _ in range(2 if rng.random() < 0.1 else 1):  # an impatient double click now and then
                outcome = submit_rating(assignment.pk, answer)
                if outcome.created:
                    log.confirmed.add(outcome.rating.pk)
            time.sleep(rng.uniform(0.2, 1.0))
    except Exception as exc:  # reported, not raised: the bench goes on and counts it
        log.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()


class Chaos:
    def __init__(self, config: ChaosConfig, folder: Path, env: dict, redis_proc, redis_url: str):
        self.config = config
        self.folder = folder
        self.env = env
        self.redis_proc = redis_proc
        self.redis_port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
        self.rng = random.Random(config.seed)
        self.events: list[Event] = []
        self.gpu_workers = 0
        self.gpu = self.new_gpu_worker()
        self.redis_killed = False
        self.retries = 0

    @property
    def deadline_seconds(self) -> float:
        return self.config.heartbeat + self.config.sweep + SCHEDULING_SLACK

    def new_gpu_worker(self) -> Process:
        self.gpu_workers += 1
        return worker(f"gpu{self.gpu_workers}", "gpu", self.env, self.folder)

    def steps(self, training_round):
        return list(training_round.steps.order_by("order"))

    def kill_worker(self, training_round) -> None:
        from labeling.training.engine import STEP_SPECS

        steps = self.steps(training_round)
        running = [s.name for s in steps if s.status == "running" and STEP_SPECS[s.name].gpu]
        event = Event(training_round.number, "worker", running[0] if running else "between steps")
        self.gpu.kill()
        killed_at, wall_killed = time.monotonic(), time.time()
        self.gpu = self.new_gpu_worker()  # the machine comes back
        self.follow(event, training_round, killed_at, wall_killed)

    def kill_redis(self, training_round, finished_step: str) -> None:
        from aes_site.services import start_redis

        pending = [s.name for s in self.steps(training_round) if s.status == "pending"]
        lost = f", {pending[0]} not yet claimed" if pending else ""
        event = Event(training_round.number, "redis", f"right after {finished_step}{lost}")
        self.redis_proc.kill()  # SIGKILL: nothing saved on the way out
        self.redis_proc.wait(timeout=30)
        time.sleep(1.0)
        self.redis_proc, _ = start_redis(self.folder / "redis", port=self.redis_port, persistent=False)
        self.redis_killed = True
        self.follow(event, training_round, time.monotonic(), time.time())

    def follow(self, event: Event, training_round, since: float, wall_since: float) -> None:
        """Wait, reading only the database, until the round failed with a reason or is seen moving: a step sent or
        claimed after the kill, or a step whose worker heart-beats after it (a worker that was not killed)."""
        from datetime import UTC, datetime, timedelta

        started = datetime.fromtimestamp(wall_since, tz=UTC)
        alive_after = started + timedelta(seconds=1)
        self.events.append(event)
        while time.monotonic() - since < self.deadline_seconds + 600:
            training_round.refresh_from_db()
            if training_round.status == "failed":
                event.outcome = f"failed: {training_round.error[:70]}"
                break
            if training_round.status == "succeeded":
                event.outcome = "moved on (round done)"
                break
            steps = self.steps(training_round)
            sent = [s for s in steps if max(s.started_at or started, s.dispatched_at or started) > started]
            alive = [s for s in steps if s.status == "running" and s.heartbeat_at and s.heartbeat_at > alive_after]
            if sent or alive:
                event.outcome = f"moved on ({sent[0].name} sent or claimed)" if sent else f"{alive[0].name} runs on"
                break
            time.sleep(0.1)
        event.seconds_to_detect = round(time.monotonic() - since, 1)
        if event.seconds_to_detect > self.deadline_seconds or event.outcome == "waiting":
            event.outcome = f"stuck ({event.outcome})"

    def run_round(self, number_of_kills: int) -> str:
        from labeling.training import engine
        from labeling.training.forms import round_config_from_form

        config = round_config_from_form(
            "cpu-smoke", ["round.rewrite_essays=2", "round.eval_essays=1", "round.ratings_per_item=1"]
        )
        training_round = engine.launch_round("cpu-smoke", config)
        # Where the kills fall: random GPU steps, in step order (a kill on a skipped step falls on the next one).
        gpu_steps = [spec.name for spec in engine.STEPS if spec.gpu]
        plan = sorted((self.rng.choice(gpu_steps) for _ in range(number_of_kills)), key=gpu_steps.index)
        seen_done: set[str] = set()
        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline:
            training_round.refresh_from_db()
            if training_round.status == "succeeded":
                return "succeeded"
            if training_round.status in ("failed", "cancelled"):
                self.retries += 1
                engine.retry_round(training_round)  # as staff would, from the round page
                continue
            steps = self.steps(training_round)
            done = {s.name for s in steps if s.status in ("succeeded", "skipped")}
            newly_done = sorted(done - seen_done)
            seen_done = done
            gpu_running = [s for s in steps if s.status == "running" and engine.STEP_SPECS[s.name].gpu]
            if newly_done and not self.redis_killed and training_round.number == 1 and "train_scorer" in done:
                self.kill_redis(training_round, newly_done[-1])
            elif plan and gpu_running and gpu_steps.index(gpu_running[0].name) >= gpu_steps.index(plan[0]):
                plan.pop(0)
                time.sleep(self.rng.uniform(0.2, 3.0))  # a random moment in the step (or just after it)
                self.kill_worker(training_round)
            else:
                time.sleep(0.05)
        return f"still {training_round.status} after an hour"


def check(log: RaterLog) -> dict:
    from django.db.models import Count, Q

    from labeling.models import LedgerEntry, Rating, RatingItem, ReviewStatus, Rewrite

    def extras(rows) -> int:
        return sum(row["n"] - 1 for row in rows.annotate(n=Count("pk")).filter(n__gt=1))

    stored = set(Rating.objects.values_list("pk", flat=True))
    return {
        # the same essay rewritten twice in a round, or by two rounds
        "duplicate_rewrites": extras(Rewrite.objects.exclude(training_round=None).values("essay", "training_round"))
        + extras(Rewrite.objects.exclude(training_round=None).values("essay")),
        "duplicate_items": extras(RatingItem.objects.values("batch", "rewrite"))
        + extras(RatingItem.objects.values("rewrite")),
        "duplicate_ledger_entries": extras(LedgerEntry.objects.values("rating", "kind")),
        # A held rating (submitted in less than its minimum reading time) earns only once a reviewer approves it.
        "ledger_matches_ratings": LedgerEntry.objects.filter(kind="earning").count()
        == Rating.objects.filter(Q(held=False) | Q(review_status=ReviewStatus.APPROVED)).count(),
        "ratings_submitted": len(log.confirmed),
        "lost_ratings": len(log.confirmed - stored),
        "rater_errors": len(log.errors),
    }


def run(config: ChaosConfig) -> dict:
    admin_sql(config, f'DROP DATABASE IF EXISTS "{config.database}" WITH (FORCE)')
    admin_sql(config, f'CREATE DATABASE "{config.database}"')
    folder = Path(tempfile.mkdtemp(prefix="aes-chaos-"))
    children: list[Process] = []
    stop_raters = threading.Event()
    chaos = None
    try:
        started = setup(config, folder)
        raters = seed(folder, config.raters)
        from aes_site.devserver import beat_command

        children.append(worker("cpu", "default", started["env"], folder))  # runs the sweep
        children.append(Process("beat", beat_command(folder), started["env"], folder))
        chaos = Chaos(config, folder, started["env"], started["redis"], started["redis_url"])
        rater_log = RaterLog()
        rater_thread = threading.Thread(target=rate_continuously, args=(raters, stop_raters, rater_log))
        rater_thread.start()
        began = time.monotonic()
        kills = [config.kills // config.rounds + (i < config.kills % config.rounds) for i in range(config.rounds)]
        outcomes = [chaos.run_round(k) for k in kills]
        elapsed = time.monotonic() - began
        stop_raters.set()
        rater_thread.join(timeout=60)
        checks = check(rater_log)
    finally:
        stop_raters.set()
        for child in children + ([chaos.gpu] if chaos else []):
            child.stop()
        if chaos:
            chaos.redis_proc.kill()
        from django.db import connections

        connections.close_all()
        if not config.keep_db:
            admin_sql(config, f'DROP DATABASE IF EXISTS "{config.database}" WITH (FORCE)')
        shutil.rmtree(folder, ignore_errors=True)
    detect = [e.seconds_to_detect for e in chaos.events if e.seconds_to_detect is not None]
    print(f"{'round':>5}  {'killed':<6}  {'during':<28}  {'noticed after':>13}  outcome")
    for e in chaos.events:
        print(f"{e.round_number:>5}  {e.what:<6}  {e.during:<28}  {e.seconds_to_detect:>11} s  {e.outcome}")
    return {
        "rounds": config.rounds,
        "finished": sum(outcome == "succeeded" for outcome in outcomes),
        "stuck": sum(e.outcome.startswith("stuck") for e in chaos.events),
        "worker_kills": sum(e.what == "worker" for e in chaos.events),
        "redis_kills": sum(e.what == "redis" for e in chaos.events),
        "retries": chaos.retries,
        **checks,
        "seconds_to_detect_p95": round(percentile(detect, 95), 1) if detect else None,
        "detect_bound_s": config.heartbeat + config.sweep,
        "minutes": round(elapsed / 60, 1),
    }


def main() -> None:
    defaults = ChaosConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=defaults.kills, help="worker kills in all (Redis once more)")
    parser.add_argument("--rounds", type=int, default=defaults.rounds)
    parser.add_argument("--heartbeat", type=float, default=defaults.heartbeat, help="AES_HEARTBEAT_TIMEOUT")
    parser.add_argument("--sweep", type=float, default=defaults.sweep, help="AES_SWEEP_SECONDS")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--raters", type=int, default=defaults.raters)
    parser.add_argument("--database", default=defaults.database)
    parser.add_argument("--pg", default=defaults.pg, help="PostgreSQL server URL without a database name")
    parser.add_argument("--keep-db", action="store_true")
    config = ChaosConfig(**vars(parser.parse_args()))
    result = run(config)
    ok = result["stuck"] == 0 and result["lost_ratings"] == 0 and result["finished"] == result["rounds"]
    ok = ok and not (result["duplicate_rewrites"] or result["duplicate_items"] or result["duplicate_ledger_entries"])
    ok = ok and result["ledger_matches_ratings"]
    print("checks:", "OK" if ok else "FAILED")
    print(json.dumps(result))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
