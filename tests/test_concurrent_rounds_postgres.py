"""Two rounds at once on PostgreSQL: rounds on different base models draw different fresh pool essays, and two
first-ever promotions of a kind do not collide (the one-promoted-version constraint raised IntegrityError).

Each thread has its own database connection, so the statements really interleave; SQLite serialises writers, so
these skip there (the `postgres` fixture).
"""

from race_helpers import run_clients
from round_helpers import import_small_corpus

from labeling.models import ModelKind, ModelVersion, Promotion, Split
from labeling.training import engine
from labeling.training.step_context import StepContext
from labeling.training.steps import essays_to_rewrite

ROUND_SETTINGS = {"rewrite_essays": 3, "eval_essays": 1, "gold_share": 0.0}


def test_two_rounds_on_different_models_never_draw_the_same_pool_essays(postgres, tmp_path):
    import_small_corpus(tmp_path, train=2, test=1, pool=32)  # 31 rewritable pool essays beside 1 held out
    drawn: dict[int, list[int]] = {}

    def generate(training_round):
        step = training_round.steps.get(name="generate_rewrites")
        drawn[training_round.pk] = [essay.pk for essay in essays_to_rewrite(StepContext(step))]

    seen: set[int] = set()
    for attempt in range(5):  # the race is timing-dependent: run it a few times, each with two new rounds
        rounds = [
            engine.launch_round("cpu-smoke", {"model_key": f"{key}-{attempt}", "round": ROUND_SETTINGS}, dispatch=False)
            for key in ("model-a", "model-b")
        ]
        assert run_clients(rounds, generate) == []
        first, second = (drawn[r.pk] for r in rounds)
        assert len(first) == len(second) == 3
        assert not set(first) & set(second), (first, second)
        assert not (set(first) | set(second)) & seen  # nor what earlier rounds drew
        seen |= set(first) | set(second)
        for training_round in rounds:
            engine.cancel_round(training_round)  # frees the model keys
    # A retried step finds its own draws again; they are pool essays.
    step = rounds[0].steps.get(name="generate_rewrites")
    assert [essay.pk for essay in essays_to_rewrite(StepContext(step))] == first
    assert {essay.split for essay in essays_to_rewrite(StepContext(step))} == {Split.POOL}


def test_two_first_promotions_at_once_do_not_collide(postgres):
    for attempt in range(5):
        versions = [
            ModelVersion.objects.create(kind=ModelKind.SCORER, name=f"scorer {attempt}-{i}", artifact_path="/x")
            for i in range(2)
        ]
        assert run_clients(versions, lambda version: version.promote(note="first scorer")) == []
        promoted = ModelVersion.objects.get(kind=ModelKind.SCORER, is_promoted=True)
        assert promoted in versions
        # Both promotions are recorded, the second one replacing the first.
        history = list(Promotion.objects.order_by("at", "pk"))
        assert [p.version_id for p in history][-1] == promoted.pk and history[-1].previous_id == history[0].version_id
        Promotion.objects.all().delete()
        ModelVersion.objects.all().delete()


def test_two_first_scorers_of_rounds_keep_the_one_promoted_first(postgres):
    versions = [
        ModelVersion.objects.create(kind=ModelKind.SCORER, name=f"round {i}", artifact_path="/x") for i in (1, 2)
    ]
    outcomes = []
    assert run_clients(versions, lambda v: outcomes.append(v.promote(note="first", only_if_none=True))) == []
    assert sorted(outcomes) == [False, True]
    assert Promotion.objects.count() == 1
