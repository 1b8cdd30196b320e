"""`make run` starts one worker per queue: with a round step busy on the "gpu" worker, a scorer training asked for
on the Models page starts at once and default-queue work (the sweep) still gets done.

Real workers (one per queue, as aes_site/devserver.py starts them), a real round and Redis.
"""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from round_helpers import import_small_corpus

from aes_site.devserver import WORKER_QUEUES
from labeling.models import RoundStatus, RoundStep, ScorerTraining, TrainingRound
from labeling.training import engine, scorer_trainings, tasks
from labeling.training.forms import round_config_from_form

pytestmark = pytest.mark.slow


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.2)
    raise AssertionError(f"not {what} after {timeout}s")


def test_scorer_training_and_default_work_do_not_wait_behind_a_gpu_step(celery_worker_factory, tmp_path):
    assert set(WORKER_QUEUES) == {"gpu", "scorer", "default"}
    workers = {queue: celery_worker_factory(queue, queues=queue) for queue in WORKER_QUEUES}
    import_small_corpus(tmp_path)
    training_round = engine.launch_round("cpu-smoke", round_config_from_form("cpu-smoke", ["round.rewrite_essays=2"]))
    sft = wait_until(
        lambda: RoundStep.objects.filter(training_round=training_round, name="sft", status=RoundStatus.RUNNING).first(),
        timeout=300,
        what="SFT running",
    )

    # A round that died long ago: only the sweep (a default-queue task) marks it failed.
    dead_round = TrainingRound.objects.create(number=99, recipe="cpu-smoke", status=RoundStatus.RUNNING)
    RoundStep.objects.create(
        training_round=dead_round,
        name="sft",
        order=1,
        status=RoundStatus.RUNNING,
        heartbeat_at=timezone.now() - timedelta(days=1),
        worker="gone:1",
    )
    training, created = scorer_trainings.request_training()
    assert created
    queued_at = time.monotonic()
    tasks.queue_scorer_training(training)
    tasks.send(tasks.sweep, [])

    wait_until(
        lambda: ScorerTraining.objects.get(pk=training.pk).status != RoundStatus.PENDING,
        timeout=60,
        what="scorer training started",
    )
    started_after = time.monotonic() - queued_at
    wait_until(
        lambda: TrainingRound.objects.get(pk=dead_round.pk).status == RoundStatus.FAILED,
        timeout=60,
        what="dead round failed by the sweep",
    )
    # Both happened while the SFT step still held the gpu worker.
    assert RoundStep.objects.get(pk=sft.pk).status == RoundStatus.RUNNING
    print(f"scorer training started {started_after:.1f}s after it was queued, during the round's SFT step")
    workers["scorer"].kill()
    workers["gpu"].kill()
