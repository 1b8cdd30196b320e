"""`train_rewriter` and `rewrite` on the database: a recipe run becomes a rewriter version, and fresh pool essays
get rewrites (guarded by the promoted scorer) stored for the rating queue."""

import pytest
from django.core.management import CommandError, call_command
from round_helpers import import_small_corpus

from labeling.models import ModelKind, ModelVersion, Rewrite
from labeling.training.rewriting import eval_essays

pytestmark = pytest.mark.slow


@pytest.mark.django_db
def test_train_then_rewrite_with_the_promoted_versions(tmp_path):
    import_small_corpus(tmp_path, train=30, test=4, pool=6)
    with pytest.raises(CommandError, match="no scorer is promoted"):
        call_command("rewrite", "--essays", "1")
    call_command("train_scorer", "--promote")

    call_command("train_rewriter", "--recipe", "cpu-smoke", "--promote")
    version = ModelVersion.promoted(ModelKind.REWRITER)
    assert version is not None and (version.artifact_path and "cpu-smoke" in version.artifact_path)
    assert version.metrics["steps"] == 2

    call_command("rewrite", "--essays", "2", "--held-out", "2", "--no-queue")
    rewrites = Rewrite.objects.filter(model_version=version)
    assert rewrites.count() == 2
    held_out = {e.pk for e in eval_essays(2)}
    assert not held_out & set(rewrites.values_list("essay_id", flat=True))
    for rewrite in rewrites:
        assert rewrite.guard_applied == (rewrite.text == rewrite.essay.text)


@pytest.mark.django_db
def test_bad_recipe_override_is_a_clear_error():
    with pytest.raises(CommandError, match="unknown key"):
        call_command("train_rewriter", "--recipe", "cpu-smoke", "--set", "rl.nonsense=1")
