""" "Train a new scorer" is queued once however often it is clicked, and its state lives in the database: when Redis
loses its data the Models page still shows the truth, and the sweep sends a queued training again.

Messages go to the suite's real Redis; no worker runs here (tests/test_scorer_train_page.py trains on one).
"""

import pytest
from django.utils import timezone

from aes_site.celery import app
from labeling.models import RoundStatus, ScorerTraining
from labeling.training import tasks


@pytest.fixture
def scorer_queue():
    """The scorer queue of the suite's Redis, emptied first; yields the raw messages in it on each call."""
    with app.connection_for_write() as connection:
        client = connection.default_channel.client
        client.delete("scorer")
        yield lambda: client.lrange("scorer", 0, -1)
        client.delete("scorer")


def lose(message_id: str) -> None:
    """What a Redis that dies without saving does to a message: it is gone."""
    with app.connection_for_write() as connection:
        client = connection.default_channel.client
        for raw in client.lrange("scorer", 0, -1):
            if message_id.encode() in raw:
                client.lrem("scorer", 0, raw)


@pytest.mark.django_db
def test_a_double_click_queues_one_training(staff_client, scorer_queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = staff_client.post("/models/train-scorer/", {"promote": "on"})
        second = staff_client.post("/models/train-scorer/", {"promote": "on"}, follow=True)
    assert first.status_code == 302
    training = ScorerTraining.objects.get()
    assert training.status == RoundStatus.PENDING and training.promote and training.requested_by.username == "boss"
    assert "A scorer training is already queued" in second.content.decode()
    assert len(scorer_queue()) == 1 and training.message_id.encode() in scorer_queue()[0]


@pytest.mark.django_db
def test_the_state_survives_redis_losing_its_data_and_the_sweep_sends_it_again(
    staff_client, scorer_queue, settings, django_capture_on_commit_callbacks
):
    settings.ROUND_SWEEP_SECONDS = 0
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post("/models/train-scorer/")
    training = ScorerTraining.objects.get()
    lose(training.message_id)
    assert scorer_queue() == []

    state = staff_client.get(f"/models/train-scorer/{training.pk}.json").json()
    assert state["state"] == "queued"
    tasks.sweep()
    training.refresh_from_db()
    assert len(scorer_queue()) == 1 and training.message_id.encode() in scorer_queue()[0]
    tasks.sweep()  # it waits in its queue now: not sent a third time
    assert len(scorer_queue()) == 1

    # Running, then its worker dies: the page shows its progress from the database, then the failure.
    ScorerTraining.objects.filter(pk=training.pk).update(
        status=RoundStatus.RUNNING, progress_done=3, progress_total=10, message="epoch 3", heartbeat_at=timezone.now()
    )
    state = staff_client.get(f"/models/train-scorer/{training.pk}.json").json()
    assert (state["state"], state["done"], state["total"], state["message"]) == ("running", 3, 10, "epoch 3")
    settings.ROUND_HEARTBEAT_TIMEOUT = 0
    tasks.sweep()
    state = staff_client.get(f"/models/train-scorer/{training.pk}.json").json()
    assert state["state"] == "failed" and "stopped responding" in state["message"]
    assert "stopped responding" in staff_client.get("/models/").content.decode()
    # It no longer blocks a new request.
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post("/models/train-scorer/")
    assert ScorerTraining.objects.filter(status=RoundStatus.PENDING).count() == 1
