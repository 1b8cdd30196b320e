"""Reference figures on the held-out set, computed once: the few-shot baseline (and the promoted rewriter) give the
same M for every round with the same base model, scorer, generation settings and held-out essays, so a round's
evaluate step reuses them (HeldOutEvaluation, keyed by a hash of exactly those inputs) and pays for the new policy's
rewrites only.
"""

import dataclasses
import hashlib
import json

from django.db import IntegrityError, transaction

from labeling.models import Essay, HeldOutEvaluation, ModelVersion
from rl.config import RecipeConfig
from rl.policy_spec import base_model_identity
from rl.text import inputs_hash


def held_out_identity(essays: list[Essay]) -> dict:
    """The held-out essays by id, and a hash of their questions and texts (an edited essay changes the key)."""
    digest = hashlib.sha256()
    for essay in essays:
        digest.update(json.dumps([essay.pk, essay.question, essay.text]).encode())
    return {"essay_ids": [e.pk for e in essays], "texts_sha256": digest.hexdigest()}


def evaluation_inputs(
    policy: str,
    version: ModelVersion | None,
    recipe: RecipeConfig,
    scorer: ModelVersion,
    essays: list[Essay],
    evaluate_settings: dict,
) -> dict:
    """Everything a reference policy's figures depend on. version None: the few-shot baseline of the recipe's base
    model (rewriting.rewriter_for turns few_shot on for it)."""
    rewriter_settings = dataclasses.asdict(recipe.rewriter)
    if version is None:
        rewriter_settings["few_shot"] = True
        policy_identity = {"base_model": base_model_identity(recipe.policy, recipe.use_cpu)}
    else:
        policy_identity = {"rewriter_version": version.pk, "artifact_path": version.artifact_path}
    return {
        "policy": policy,
        **policy_identity,
        "scorer_version": scorer.pk,
        "scorer_path": scorer.artifact_path,
        "rewriter_settings": rewriter_settings,
        "seed": recipe.seed,
        "evaluate_settings": evaluate_settings,
        "held_out": held_out_identity(essays),
    }


def key_of(inputs: dict) -> str:
    return inputs_hash(inputs)


def find(inputs: dict) -> HeldOutEvaluation | None:
    return HeldOutEvaluation.objects.filter(key=key_of(inputs)).select_related("training_round").first()


def store(inputs: dict, figures: dict, training_round, seconds: float) -> HeldOutEvaluation:
    """Keep computed figures; when a round running at the same time stored the same key first, theirs stays."""
    try:
        with transaction.atomic():
            return HeldOutEvaluation.objects.create(
                key=key_of(inputs),
                policy=inputs["policy"],
                inputs=json.loads(json.dumps(inputs, default=str)),
                figures=figures,
                seconds=seconds,
                training_round=training_round,
            )
    except IntegrityError:
        return HeldOutEvaluation.objects.get(key=key_of(inputs))


def reused_note(evaluation: HeldOutEvaluation) -> str:
    where = f"round {evaluation.training_round.number}" if evaluation.training_round else "a deleted round"
    return f"reused from {where}"
