"""Several workers share one broker and database: a step sent to two workers runs once, and a round survives Redis
being killed (SIGKILL, nothing saved: every queued message is lost) right after a step finished, with no page open:
the periodic sweep (Celery beat) sends the lost step again within the heartbeat timeout plus one sweep interval.

Real workers, Celery beat and a Redis of the test's own; PostgreSQL when DATABASE_URL points at it (CI), else SQLite.
"""

import time

import pytest
from celery import Celery
from round_helpers import import_small_corpus, wait_for_round

from aes_site.services import start_redis
from labeling.models import RoundStatus, RoundStep
from labeling.training import engine
from labeling.training.forms import round_config_from_form

pytestmark = pytest.mark.slow

HEARTBEAT_TIMEOUT, SWEEP_SECONDS = 6, 2
# After a restart the workers and beat reconnect with a back-off of their own, on a shared machine.
RECONNECT_SLACK = 20


def test_two_workers_claim_each_step_once_and_a_killed_redis_loses_nothing(
    celery_worker_factory, celery_beat, monkeypatch, tmp_path
):
    import_small_corpus(tmp_path)
    redis_dir = tmp_path / "redis"
    redis_proc, url = start_redis(redis_dir, persistent=False)
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    monkeypatch.setenv("REDIS_URL", url)  # the workers' and beat's broker
    monkeypatch.setenv("AES_HEARTBEAT_TIMEOUT", str(HEARTBEAT_TIMEOUT))
    monkeypatch.setenv("AES_SWEEP_SECONDS", str(SWEEP_SECONDS))
    try:
        celery_worker_factory("alpha")
        celery_worker_factory("beta")
        celery_beat()
        # What is claimed and resent is under test here, not the rewrites: no corrector (tests/test_corrector.py).
        config = round_config_from_form(
            "cpu-smoke", ["round.rewrite_essays=2", "round.eval_essays=1", "rewriter.corrector=false"]
        )
        training_round = engine.launch_round("cpu-smoke", config, dispatch=False)
        first = training_round.steps.get(name="train_scorer")
        sender = Celery(broker=url, set_as_current=False)
        # The same step sent twice, as when two machines both pick up a round: exactly one of them runs it.
        for _ in range(2):
            sender.send_task("labeling.tasks.gpu_run_step", args=[first.pk], queue="gpu")

        # Kill Redis the moment the first step is recorded as finished: the message that would run the next step
        # (or advance the round) dies with it.
        deadline = time.monotonic() + 600
        while RoundStep.objects.get(pk=first.pk).status == RoundStatus.PENDING or (
            RoundStep.objects.get(pk=first.pk).status == RoundStatus.RUNNING
        ):
            assert time.monotonic() < deadline, "the first step did not finish"
            time.sleep(0.05)
        redis_proc.kill()
        redis_proc.wait(timeout=30)
        second_state = RoundStep.objects.get(training_round=training_round, name="sft").status
        time.sleep(1)
        redis_proc, _ = start_redis(redis_dir, port=port, persistent=False)
        restarted_at = time.monotonic()

        # Nobody opens a page: the round moves on by itself.
        if second_state == RoundStatus.PENDING:
            deadline = restarted_at + HEARTBEAT_TIMEOUT + SWEEP_SECONDS + RECONNECT_SLACK
            while RoundStep.objects.get(training_round=training_round, name="sft").status == RoundStatus.PENDING:
                assert time.monotonic() < deadline, "the lost step was not sent again"
                time.sleep(0.2)
        training_round = wait_for_round(training_round.number, timeout=900)
        assert training_round.status == RoundStatus.SUCCEEDED, training_round.error
        # The step sent to both workers ran once; the log names the one worker that ran it.
        first.refresh_from_db()
        assert first.attempts == 1 and first.log.count("started on") == 1, first.log
        assert all(step.attempts == 1 for step in training_round.steps.exclude(status=RoundStatus.SKIPPED))
        assert all(step.worker for step in training_round.steps.exclude(status=RoundStatus.SKIPPED))
    finally:
        redis_proc.terminate()
        redis_proc.wait(timeout=30)
