"""What the launch form checks before a round starts, and what it tells staff about the chosen recipe: whether its
model loads offline, whether the attached workers can run it, and how long it is expected to take.

Torch-free: the web process runs these (huggingface_hub is imported inside the function that needs it).
"""

import importlib.util
import os
import statistics
from pathlib import Path

from celery.worker.control import inspect_command

from aes_site.celery import app
from labeling.models import RoundStatus, RoundStep
from rl.policy_spec import PACKAGED_MODELS, PACKAGED_PREFIX

from .engine import STEP_SPECS

# A recipe's documented duration, where no round of it has run here yet: (minutes, where the figure comes from).
WHOLE_ROUND_BEFORE_REUSE = "a whole round at 22cbaf1 on a 2-core CPU beside another job, before the baseline was reused"
FIRST_ROUND = "a first round at c679eb1 on a 2-core CPU beside another job (20 min once the warm start is reused)"
DOCUMENTED_MINUTES = {"cpu-smoke": (18, WHOLE_ROUND_BEFORE_REUSE), "cpu-demo": (48, FIRST_ROUND)}
CAPABILITIES_TIMEOUT = 1.0  # seconds the form waits for the workers to say what they have


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def model_load_error(model: str) -> str | None:
    """Why the workers could not load this base model, or None. A packaged model needs its package; with
    HF_HUB_OFFLINE set (as `make run` does) a Hugging Face id must already be in the local cache."""
    if model.startswith(PACKAGED_PREFIX):
        name = model[len(PACKAGED_PREFIX) :]
        if name not in PACKAGED_MODELS:
            return f"unknown packaged model {name!r}; known: {', '.join(sorted(PACKAGED_MODELS))}"
        if importlib.util.find_spec(PACKAGED_MODELS[name][0]) is None:
            return f"{model} needs the Python package {PACKAGED_MODELS[name][0]}, which is not installed"
        return None
    if Path(model).exists():
        return None
    if model.startswith(("/", ".", "~")) or model.count("/") > 1:
        return f"{model} is not a folder on this machine (and not a Hugging Face id of the form owner/name)"
    if offline():
        from huggingface_hub import try_to_load_from_cache

        try:
            cached = try_to_load_from_cache(model, "config.json")
        except ValueError as exc:  # huggingface_hub's HFValidationError: not a valid repository id
            return f"{model} is neither a local folder nor a valid Hugging Face id ({exc})"
        if not isinstance(cached, str):
            return (
                f"{model} is neither a local folder nor in the local Hugging Face cache, and HF_HUB_OFFLINE is set: "
                "the workers cannot download it. Download it first, or give a local folder."
            )
    return None


def needs_cuda(config: dict) -> str | None:
    """Why a resolved recipe needs a CUDA GPU, or None."""
    if config.get("policy", {}).get("load_in_4bit"):
        return "4-bit QLoRA (bitsandbytes) needs a CUDA GPU"
    if config.get("use_cpu") is False:
        return "the recipe sets use_cpu: false (GPU training)"
    return None


def worker_has_cuda() -> bool:
    """What a worker reports: AES_WORKER_CUDA=1/0 when set (deployments, tests), else whether an NVIDIA device is
    present. Torch is not imported for this: a CPU-only worker need not load it."""
    forced = os.environ.get("AES_WORKER_CUDA", "").strip()
    if forced:
        return forced.lower() in {"1", "true", "yes", "on"}
    return Path("/proc/driver/nvidia/version").exists() or Path("/dev/nvidia0").exists()


@inspect_command()
def aes_capabilities(state, **kwargs):
    """Remote control command (celery inspect): what this worker can run."""
    queues = [queue.name for queue in state.consumer.task_consumer.queues] if state.consumer.task_consumer else []
    return {"queues": queues, "cuda": worker_has_cuda()}


def attached_workers(timeout: float = CAPABILITIES_TIMEOUT) -> dict[str, dict]:
    """Worker name -> its capabilities, for the workers that answer within `timeout`."""
    replies = app.control.broadcast("aes_capabilities", reply=True, timeout=timeout) or []
    return {name: reply for answer in replies for name, reply in answer.items() if isinstance(reply, dict)}


def worker_error(config: dict) -> str | None:
    """Why the attached workers cannot run this recipe, or None. Only a recipe that needs CUDA asks the workers."""
    reason = needs_cuda(config)
    if reason is None:
        return None
    workers = attached_workers()
    if any(w.get("cuda") and "gpu" in w.get("queues", []) for w in workers.values()):
        return None
    seen = ", ".join(f"{name} ({'CUDA' if w.get('cuda') else 'no CUDA'})" for name, w in sorted(workers.items()))
    return f"{reason}, and no worker on the gpu queue reports one (workers: {seen or 'none answered'})."


def expected_duration(recipe: str) -> dict | None:
    """How long a round of this recipe takes here: the median of each step over the finished rounds of the recipe on
    this deployment, summed; else the recipe's documented figure. None when neither exists."""
    finished = RoundStep.objects.filter(
        training_round__recipe=recipe,
        training_round__status=RoundStatus.SUCCEEDED,
        status__in=[RoundStatus.SUCCEEDED, RoundStatus.SKIPPED],
        started_at__isnull=False,
        finished_at__isnull=False,
    ).values_list("name", "started_at", "finished_at", "training_round_id")
    by_step: dict[str, list[float]] = {}
    rounds = set()
    for name, started, ended, round_id in finished:
        by_step.setdefault(name, []).append((ended - started).total_seconds())
        rounds.add(round_id)
    if by_step and set(by_step) >= set(STEP_SPECS):
        seconds = sum(statistics.median(values) for values in by_step.values())
        return {"minutes": round(seconds / 60, 1), "source": f"measured: {len(rounds)} finished round(s) here"}
    if recipe in DOCUMENTED_MINUTES:
        minutes, where = DOCUMENTED_MINUTES[recipe]
        return {"minutes": minutes, "source": f"documented estimate: {where}; no round of it has finished here yet"}
    return None
