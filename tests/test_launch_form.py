"""The New round form shows only the settings the chosen recipe uses, says how long a round is expected to take here,
and refuses, with the reason, a model the workers cannot load offline or a recipe the attached workers cannot run."""

from datetime import timedelta

import pytest
from django.utils import timezone

from labeling.models import RoundStatus, TrainingRound
from labeling.training import engine
from labeling.training.forms import LaunchRoundForm


@pytest.mark.django_db
def test_an_sft_only_recipe_hides_and_ignores_the_rl_settings(staff_client):
    defaults = staff_client.get("/rounds/new/").context["recipe_defaults"]
    assert defaults["cpu-smoke"]["hidden"] == ["algorithm"] and defaults["cpu-smoke"]["section"] == "SFT"
    assert defaults["cpu-demo"]["hidden"] == [] and defaults["cpu-demo"]["section"] == "GRPO/RLOO"
    response = staff_client.post("/rounds/new/", {"recipe": "cpu-smoke", "algorithm": "rloo", "steps": "3"})
    assert response.status_code == 302
    config = TrainingRound.objects.get().config
    assert config["stage"] == "sft" and config["sft"]["max_steps"] == 3
    assert config["rl"]["algorithm"] == "grpo" and config["overrides"] == ["sft.max_steps=3"]


@pytest.mark.django_db
def test_expected_duration_is_measured_from_finished_rounds_else_documented(staff_client):
    expected = staff_client.get("/rounds/new/").context["recipe_defaults"]["cpu-smoke"]["expected"]
    assert expected["minutes"] == 18 and expected["source"].startswith("documented estimate")
    assert staff_client.get("/rounds/new/").context["recipe_defaults"]["gpu-3b-qlora"]["expected"] is None

    for number, seconds in ((1, 60), (2, 120), (3, 90)):
        training_round = engine.launch_round("cpu-smoke", {"model_key": f"m{number}"}, dispatch=False)
        start = timezone.now() - timedelta(hours=1)
        for step in training_round.steps.all():
            step.status, step.started_at = RoundStatus.SUCCEEDED, start
            step.finished_at = start + timedelta(seconds=seconds)
            step.save()
        engine.finish_round(training_round, RoundStatus.SUCCEEDED)
    expected = staff_client.get("/rounds/new/").context["recipe_defaults"]["cpu-smoke"]["expected"]
    # Seven steps, each with a median of 90 s over three rounds: 10.5 minutes.
    assert len(engine.STEPS) == 7
    assert expected == {"minutes": 10.5, "source": "measured: 3 finished round(s) here"}
    assert "Expected duration on this machine" in staff_client.get("/rounds/new/").content.decode()


@pytest.mark.django_db
def test_a_model_that_cannot_load_offline_is_refused_on_the_form(staff_client, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    response = staff_client.post("/rounds/new/", {"recipe": "cpu-smoke", "base_model": "nobody/no-such-model-here"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "This round cannot run here: nobody/no-such-model-here is neither a local folder nor in the local" in page
    assert not TrainingRound.objects.exists()
    response = staff_client.post("/rounds/new/", {"recipe": "cpu-smoke", "base_model": "packaged:no-such-gguf"})
    assert "unknown packaged model" in response.content.decode() and not TrainingRound.objects.exists()
    # A path that is no folder here is refused online and offline (it used to end in a server error offline).
    for base_model in (str(tmp_path / "missing"), "models/../other-policy"):
        form = LaunchRoundForm({"recipe": "cpu-smoke", "base_model": base_model})
        assert not form.is_valid() and "is not a folder on this machine" in str(form.errors)
    # A local folder, or the same id online, is accepted.
    assert LaunchRoundForm({"recipe": "cpu-smoke", "base_model": str(tmp_path)}).is_valid()
    monkeypatch.delenv("HF_HUB_OFFLINE")
    assert LaunchRoundForm({"recipe": "cpu-smoke", "base_model": "nobody/no-such-model-here"}).is_valid()


def test_a_cuda_recipe_needs_a_gpu_queue_worker_that_reports_cuda(celery_worker_factory, monkeypatch):
    form = LaunchRoundForm({"recipe": "cpu-smoke", "qlora": "on"})
    assert not form.is_valid()
    assert "4-bit QLoRA (bitsandbytes) needs a CUDA GPU" in str(form.errors) and "none answered" in str(form.errors)
    monkeypatch.setenv("AES_WORKER_CUDA", "1")  # CUDA is the one thing tests fake
    cpu_side = celery_worker_factory("cudacpu", queues="default")
    form = LaunchRoundForm({"recipe": "cpu-smoke", "qlora": "on"})
    assert not form.is_valid() and f"{cpu_side.hostname} (CUDA)" in str(form.errors)
    celery_worker_factory("gpu1", queues="gpu")
    assert LaunchRoundForm({"recipe": "cpu-smoke", "qlora": "on"}).is_valid()
    assert LaunchRoundForm({"recipe": "cpu-smoke"}).is_valid()  # a CPU recipe never asks the workers
