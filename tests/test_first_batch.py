"""The first batch: `bootstrap_demo` picks essays worth correcting and queues one task each; each task rewrites its
essay with the default rewriter (real base model, corrector and guard) and queues the pair only when it changed.
The staff home page shows the progress; a rater with nothing to rate hears that pairs are being prepared."""

import pytest
from rating_helpers import PASSWORD, make_raters
from round_helpers import import_small_corpus

from labeling.models import Essay, FirstBatch, RatingItem, Split
from labeling.training import first_batch
from labeling.training.rewriting import eval_essays

pytestmark = pytest.mark.django_db

WITH_ERRORS = (
    "In my opinion, the goverment should spend more money on public transport. i think that buses is cheaper than "
    "cars and they helps poor people to go to work. Many citys have too much traffic and the air is dirty becuase "
    "of it. " * 4
)
CLEAN = (
    "Public transport deserves more money than roads. Buses and trains carry many people cheaply, they reduce "
    "traffic, and they make the air in cities cleaner. Governments should therefore invest in them first. " * 4
)


def essay(text: str, split: str = Split.POOL, band=None) -> Essay:
    return Essay.objects.create(text=text, origin="test", split=split, band=band)


def test_start_picks_essays_with_likely_errors_once_and_resends_unfinished_ones():
    # The held-out evaluation set is the first 20 pool essays by text hash: never rewritten for raters.
    pool = [essay(f"{WITH_ERRORS} Essay number {i}.") for i in range(24)] + [essay(CLEAN)]
    held_out = {e.pk for e in eval_essays()}
    learner = essay(WITH_ERRORS.replace("In my opinion", "I believe"), split=Split.TRAIN, band=5)
    essay(WITH_ERRORS.replace("In my opinion", "To my mind"), split=Split.TEST, band=5)  # never rewritten
    sent = []
    batch = first_batch.start(send=lambda b, essay_id: sent.append(essay_id), size=30)

    expected = {e.pk for e in pool[:-1]} - held_out | {learner.pk}
    assert set(batch.essay_ids) == expected and len(expected) >= 2
    assert sorted(sent) == sorted(batch.essay_ids)
    # make run again: the same batch, its unfinished essays sent again (the tasks are idempotent)
    again = first_batch.start(send=lambda b, essay_id: sent.append(essay_id), size=5)
    assert again.pk == batch.pk and FirstBatch.objects.count() == 1 and len(sent) == 2 * len(expected)


def test_no_first_batch_when_raters_already_have_pairs():
    from rating_helpers import make_items

    make_items(1)
    essay(WITH_ERRORS)
    assert first_batch.start(send=lambda *a: pytest.fail("nothing to send"), size=5) is None


@pytest.mark.slow
def test_rewrites_queue_only_changed_pairs_once_and_pages_show_progress(tmp_path, client, make_user):
    import_small_corpus(tmp_path, pool=0)  # published bands for the guard's stand-in scorer
    noisy, clean = essay(WITH_ERRORS), essay(CLEAN)
    batch = FirstBatch.objects.create(essay_ids=[noisy.pk, clean.pk])
    (rater,) = make_raters(1)
    client.login(username=rater.username, password=PASSWORD)
    assert "Pairs are being prepared" in client.get("/rate/").content.decode()

    assert first_batch.rewrite_essay(batch.pk, noisy.pk) == "queued"
    assert first_batch.rewrite_essay(batch.pk, clean.pk) == "kept as the original by the guard"
    assert first_batch.rewrite_essay(batch.pk, noisy.pk) == "queued"  # again: nothing new

    (item,) = RatingItem.objects.select_related("rewrite", "essay")
    assert item.essay_id == noisy.pk and item.rewrite.text != item.essay.text
    assert item.batch.name == FirstBatch.RATING_BATCH_NAME
    assert "goverment" not in item.rewrite.text or "citys" not in item.rewrite.text
    assert batch.rewrites().count() == 2
    progress = batch.progress()
    assert (progress["rewritten"], progress["queued"], progress["kept_original"], progress["running"]) == (
        2,
        1,
        1,
        False,
    )
    batch.refresh_from_db()
    assert batch.finished_at is not None

    make_user("boss", staff=True)
    client.login(username="boss", password=PASSWORD)
    page = client.get("/").content.decode()
    assert "first batch: 2/2 rewritten, 1 queued for raters, 1 kept as the original by the guard" in page
