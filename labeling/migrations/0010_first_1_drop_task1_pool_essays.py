"""Remove the Task 1 reports already imported into the pool (imports now skip them), unless raters saw them."""

from django.db import migrations

from rl.task_type import is_task1_report


def drop_unrated_task1_pool_essays(apps, schema_editor):
    Essay = apps.get_model("labeling", "Essay")
    Prompt = apps.get_model("labeling", "Prompt")
    pool = Essay.objects.filter(split="pool", rating_items__isnull=True).select_related("prompt")
    reports = [
        (essay.pk, essay.prompt_id)
        for essay in pool.iterator(chunk_size=500)
        if is_task1_report(essay.prompt.text if essay.prompt_id else "", essay.text)
    ]
    if not reports:
        return
    Essay.objects.filter(pk__in=[pk for pk, _ in reports]).delete()
    # Their questions go too when no other essay uses them.
    Prompt.objects.filter(pk__in={prompt for _, prompt in reports if prompt}, essays__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("labeling", "0009_progress_step_phase"),
    ]

    operations = [
        migrations.RunPython(drop_unrated_task1_pool_essays, migrations.RunPython.noop),
    ]
