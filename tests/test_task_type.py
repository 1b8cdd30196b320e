"""Task 1 reports are told from Task 2 essays, kept out of the pool at import, and counted in the import report."""

import csv
import importlib
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from rating_helpers import make_pair

from labeling.models import Essay, Prompt, Split
from rl.task_type import is_task1_report, task1_evidence

TASK1 = [
    # The official wording of the question.
    (
        "The graph below shows the number of visitors to three museums. Summarise the information by selecting and "
        "reporting the main features, and make comparisons where relevant.",
        "",
    ),
    ("The table below compares the cost of housing in five cities in 2010.", ""),
    ("The diagram shows the process by which bricks are manufactured.", ""),
    # A paraphrased question, a report for an answer.
    (
        "How did car ownership change in Sweden between 1990 and 2020?",
        "The provided line graph illustrates how many households owned a car in Sweden over three decades.\n"
        "Overall, ownership rose steadily.",
    ),
    # A title for a question; the answer names the visual.
    ("A Town Transformed", "The two maps depict the changes to the centre of Hillside between 1980 and today."),
    ("Spending of young and old", "Depicted in the pie charts are the shares of income spent on five items."),
    ("Rainfall in three cities", "According to the bar chart, Cairns received the most rain in every month."),
    # A Task 2 question paired with a report by mistake (seen in published data): the essay decides.
    (
        "Some people think children should start school at four. To what extent do you agree?",
        "The diagram illustrates the stages in the production of clean drinking water.",
    ),
]

TASK2 = [
    ("Some people believe that university education should be free. To what extent do you agree or disagree?", ""),
    (
        "Many people think that maps and printed guides are no longer needed. Discuss both views.",
        "Nowadays, most people find their way with a phone, yet paper maps still have their place.",
    ),
    (
        "Should governments spend more on public transport than on roads?",
        "In the modern world, recent figures show that traffic in large cities is rising, and a table of "
        "statistics is hardly needed to see it. I believe public transport deserves more money.",
    ),
    (
        "Is careful planning the key to success?",
        "Opinions vary on whether meticulous planning matters more than luck. A good plan helps, but it is not "
        "everything.",
    ),
    (
        "Discuss the importance of teaching children right from wrong, and the role of punishment in this process.",
        "Some people argue that punishment teaches children nothing; I disagree.",
    ),
    ("What are the advantages and disadvantages of working from home?", "Working from home has become common."),
]


@pytest.mark.parametrize(("question", "essay"), TASK1)
def test_task1_reports_are_recognised(question, essay):
    assert is_task1_report(question, essay), task1_evidence(question, essay)


@pytest.mark.parametrize(("question", "essay"), TASK2)
def test_task2_essays_are_not_reports(question, essay):
    assert task1_evidence(question, essay) is None


def write_pool_csv(path, rows):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["", "question", "paragraph"])
        writer.writerows([i, question, essay] for i, (question, essay) in enumerate(rows))
    return path


@pytest.mark.django_db
def test_pool_import_skips_task1_reports_and_says_how_many(tmp_path):
    reports = [(q, e or "The chart shows how the figures changed over ten years.") for q, e in TASK1[:3]]
    essays = [(q, e or f"An argued essay number {i}.") for i, (q, e) in enumerate(TASK2)]
    path = write_pool_csv(tmp_path / "pool.csv", reports + essays)
    out = StringIO()
    call_command("import_essays", str(path), "--format", "duwuonline", stdout=out, stderr=StringIO())

    assert "imported 6 (pool 6)" in out.getvalue()
    assert "skipped 3 Task 1 reports" in out.getvalue()
    assert Essay.objects.filter(split=Split.POOL).count() == 6
    assert not any(is_task1_report(e.question, e.text) for e in Essay.objects.select_related("prompt"))


@pytest.mark.django_db
def test_scored_splits_keep_their_essays(tmp_path):
    """Only the pool (the essays to rewrite) is filtered: a scored file keeps every row with its human band."""
    path = tmp_path / "scored.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(
            [["prompt", "essay", "evaluation", "band"], [TASK1[1][0], "The table compares housing costs.", "", "6"]]
        )
    out = StringIO()
    call_command("import_essays", str(path), stdout=out, stderr=StringIO())
    assert "imported 1" in out.getvalue() and "Task 1" not in out.getvalue()


@pytest.mark.django_db
def test_migration_drops_unrated_task1_pool_essays_only():
    migration = importlib.import_module("labeling.migrations.0010_first_1_drop_task1_pool_essays")
    report_prompt = Prompt.objects.create(text="How did car ownership change in Sweden?")
    Essay.objects.create(prompt=report_prompt, text=TASK1[3][1], origin="t", split=Split.POOL)
    kept_report = Essay.objects.create(text=TASK1[4][1], origin="t", split=Split.TRAIN)
    argued = Essay.objects.create(text=TASK2[1][1], origin="t", split=Split.POOL)
    rated_report = make_pair(TASK1[5][1], TASK1[5][1] + " More.").essay  # queued for raters: kept

    migration.drop_unrated_task1_pool_essays(apps, None)

    assert set(Essay.objects.values_list("pk", flat=True)) == {kept_report.pk, argued.pk, rated_report.pk}
    assert not Prompt.objects.filter(pk=report_prompt.pk).exists()
