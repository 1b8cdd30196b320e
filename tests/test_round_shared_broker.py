"""Several workers share one broker and database: a step sent to two workers runs once, and the round survives a
Redis restart in the middle (round state lives in the database; the broker's queue in Redis' append-only file)."""

import signal
import time

import pytest
from celery import Celery
from round_helpers import import_small_corpus, wait_for_round

from aes_site.services import start_redis
from labeling.models import RoundStatus, RoundStep
from labeling.training import engine
from labeling.training.forms import round_config_from_form

pytestmark = pytest.mark.slow


def test_two_workers_claim_each_step_once_across_a_redis_restart(celery_worker_factory, monkeypatch, tmp_path):
    import_small_corpus(tmp_path)
    redis_dir = tmp_path / "redis"
    redis_proc, url = start_redis(redis_dir)
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    monkeypatch.setenv("REDIS_URL", url)  # the workers' broker
    try:
        celery_worker_factory("alpha")
        celery_worker_factory("beta")
        config = round_config_from_form("cpu-smoke", ["round.rewrite_essays=2", "round.eval_essays=1"])
        training_round = engine.launch_round("cpu-smoke", config, dispatch=False)
        first = training_round.steps.get(name="train_scorer")
        sender = Celery(broker=url, set_as_current=False)
        # The same step sent twice, as when two machines both pick up a round: exactly one of them runs it.
        for _ in range(2):
            sender.send_task("labeling.tasks.gpu_run_step", args=[first.pk], queue="gpu")

        # Restart Redis while the first step runs.
        deadline = time.monotonic() + 120
        while RoundStep.objects.get(pk=first.pk).status == RoundStatus.PENDING and time.monotonic() < deadline:
            time.sleep(0.5)
        redis_proc.send_signal(signal.SIGTERM)
        redis_proc.wait(timeout=30)
        redis_proc, _ = start_redis(redis_dir, port=port)

        training_round = wait_for_round(training_round.number, timeout=900)
        assert training_round.status == RoundStatus.SUCCEEDED, training_round.error
        # The step sent to both workers ran once; the log names the one worker that ran it.
        first.refresh_from_db()
        assert first.attempts == 1 and first.log.count("started on") == 1, first.log
        assert all(step.worker for step in training_round.steps.exclude(status=RoundStatus.SKIPPED))
    finally:
        redis_proc.terminate()
        redis_proc.wait(timeout=30)
