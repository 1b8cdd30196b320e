"""Every corpus and training model has a working admin list (filters, search) and the exports download there."""

from decimal import Decimal
from io import BytesIO

import pyarrow.parquet as pq
import pytest
from django.urls import reverse

from labeling.models import Essay, ModelVersion, Prompt, Rewrite, RoundStep, TrainingRound

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(admin_user):
    prompt = Prompt.objects.create(text="Some think X. Discuss.")
    essays = {
        "low": Essay.objects.create(
            prompt=prompt, text="Below four essay.", origin="chillies:a.csv", split="train", band_below_4=True
        ),
        "mid": Essay.objects.create(
            prompt=prompt, text="Six essay.", origin="chillies:a.csv", split="train", band=Decimal("6.0")
        ),
        "high": Essay.objects.create(
            prompt=prompt, text="Nine essay.", origin="tfcs:test.csv", split="test", band=Decimal("9.0")
        ),
        "pool": Essay.objects.create(prompt=prompt, text="Pool essay.", origin="duwuonline:d.csv", split="pool"),
    }
    training_round = TrainingRound.objects.create(number=1, recipe="sft")
    RoundStep.objects.create(training_round=training_round, name="generate", order=1, progress_total=4)
    version = ModelVersion.objects.create(
        kind="rewriter", name="rw-1", artifact_path="rw-1", training_round=training_round
    )
    version.promote(user=admin_user)
    Rewrite.objects.create(
        essay=essays["mid"],
        text="Six essay, edited.",
        model_version=version,
        training_round=training_round,
        chars_changed=8,
    )
    return essays


@pytest.mark.parametrize(
    "model", ["prompt", "essay", "rewrite", "modelversion", "promotion", "traininground", "roundstep"]
)
def test_every_changelist_and_change_page_renders(admin_client, data, model):
    response = admin_client.get(reverse(f"admin:labeling_{model}_changelist"))
    assert response.status_code == 200
    result = response.context["cl"].result_list
    assert len(result) >= 1
    change = admin_client.get(reverse(f"admin:labeling_{model}_change", args=[result[0].pk]))
    assert change.status_code == 200


def listed_texts(admin_client, **params) -> set[str]:
    response = admin_client.get(reverse("admin:labeling_essay_changelist"), params)
    assert response.status_code == 200
    return {essay.text for essay in response.context["cl"].result_list}


def test_essay_filters_by_band_range_split_origin_and_search(admin_client, data):
    assert listed_texts(admin_client, band_range="below-4") == {"Below four essay."}
    assert listed_texts(admin_client, band_range="5.5-6.5") == {"Six essay."}
    assert listed_texts(admin_client, band_range="8.5-9") == {"Nine essay."}
    assert listed_texts(admin_client, band_range="none") == {"Pool essay."}
    assert listed_texts(admin_client, split="test") == {"Nine essay."}
    assert listed_texts(admin_client, origin="chillies:a.csv") == {"Below four essay.", "Six essay."}
    assert listed_texts(admin_client, q="pool") == {"Pool essay."}


def test_essay_list_shows_below_4_and_links_to_the_export_page(admin_client, data):
    page = admin_client.get(reverse("admin:labeling_essay_changelist")).content.decode()
    assert "&lt;4" in page
    assert reverse("admin:labeling_essay_export") in page


def test_export_page_lists_every_format(admin_client, data):
    page = admin_client.get(reverse("admin:labeling_essay_export")).content.decode()
    for fmt in ["scorer_csv", "jsonl", "parquet", "dpo"]:
        assert f"?format={fmt}" in page


def download(admin_client, **params) -> tuple[str, bytes]:
    response = admin_client.get(reverse("admin:labeling_essay_export"), params)
    assert response.status_code == 200
    return response["Content-Disposition"], b"".join(response.streaming_content)


def test_admin_downloads_each_format(admin_client, data):
    disposition, body = download(admin_client, format="scorer_csv", split="train")
    assert 'filename="aes-scorer_csv-train.csv"' in disposition
    lines = body.decode().splitlines()
    assert lines[0] == "id,question,essay,score,timestamp,iteration,source,below_4,split" and len(lines) == 3

    _, body = download(admin_client, format="jsonl")
    assert len(body.decode().splitlines()) == 3  # the three essays with a band

    _, body = download(admin_client, format="parquet", split="test")
    assert pq.read_table(BytesIO(body)).column("essay").to_pylist() == ["Nine essay."]

    disposition, body = download(admin_client, format="dpo", round="1")
    assert "aes-dpo-round1.parquet" in disposition
    assert pq.read_table(BytesIO(body)).column_names == ["prompt", "chosen", "rejected"]


def test_unknown_export_format_is_not_found(admin_client, data):
    assert admin_client.get(reverse("admin:labeling_essay_export"), {"format": "xlsx"}).status_code == 404


def test_exports_need_staff(client, make_user, data):
    make_user("rater")
    client.login(username="rater", password="pw-for-tests-1")
    response = client.get(reverse("admin:labeling_essay_export"), {"format": "jsonl"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_promote_action_keeps_the_history(admin_client, data):
    second = ModelVersion.objects.create(kind="rewriter", name="rw-2", artifact_path="rw-2")
    response = admin_client.post(
        reverse("admin:labeling_modelversion_changelist"),
        {"action": "promote_selected", "_selected_action": [second.pk]},
    )
    assert response.status_code == 302
    assert ModelVersion.promoted("rewriter") == second
    assert second.promotions.get().previous.name == "rw-1"
