"""Staff powers are permissions a deployment hands out separately (role groups), not one is_staff flag: a reviewer
cannot move money, a payouts clerk cannot approve ratings, a trainer cannot touch either; superusers can do it all,
and staff from before the split keep every role.
"""

import importlib
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rating_helpers import PASSWORD, make_items, make_raters

from labeling.models import ModelKind, ModelVersion, Rating
from labeling.rating.actions import RatingAnswer, submit_rating
from labeling.rating.assignment import claim_next
from labeling.roles import ROLE_GROUPS, can, role_of

# (method, path, needed permission); a 403 without it, anything else with it.
ACTIONS = [
    ("post", "/staff/ratings/review/", {"action": "approve"}, "review_ratings"),
    ("post", "/staff/ratings/{rating}/review/", {"action": "reject"}, "review_ratings"),
    ("get", "/staff/payouts/", {}, "manage_payouts"),
    ("post", "/staff/payouts/", {}, "manage_payouts"),
    ("post", "/staff/raters/", {"username": "newbie"}, "manage_raters"),
    ("post", "/staff/raters/{rater}/", {"action": "deactivate"}, "manage_raters"),
    ("post", "/staff/raters/unlock/", {"kind": "account", "value": "x"}, "manage_raters"),
    ("get", "/rounds/new/", {}, "train_models"),
    ("post", "/models/train-scorer/", {}, "train_models"),
    ("post", "/models/{version}/promote/", {}, "train_models"),
]
VIEW_PAGES = ["/rounds/", "/models/", "/staff/ratings/", "/staff/ratings/agreement/", "/staff/raters/"]
ROLE_OF_PERMISSION = {codename: group for group, codenames in ROLE_GROUPS.items() for codename in codenames}


@pytest.fixture
def world(db):
    make_items(1)
    (rater,) = make_raters(1)
    reserved = claim_next(rater, now=timezone.now() - timedelta(minutes=5))
    submit_rating(reserved.pk, RatingAnswer(band_a=6, band_b=7, better="B", active_seconds=240))
    version = ModelVersion.objects.create(kind=ModelKind.SCORER, name="s", artifact_path="/nowhere")
    return {"rating": Rating.objects.get().pk, "rater": rater.pk, "version": version.pk}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", list(ROLE_GROUPS))
def test_each_role_may_do_its_job_and_nothing_else(world, make_user, role, django_capture_on_commit_callbacks):
    user = make_user(f"member-{role.replace(' ', '-')}", staff=True, roles=(role,))
    client = client_for(user)
    assert role_of(user) == "staff"
    for page in VIEW_PAGES:
        assert client.get(page).status_code == 200, page
    for method, path, data, permission in ACTIONS:
        with django_capture_on_commit_callbacks(execute=False):
            status = getattr(client, method)(path.format(**world), data).status_code
        allowed = ROLE_OF_PERMISSION[permission] == role
        assert (status != 403) == allowed, (role, method, path, status)
        assert can(user, permission) == allowed


def test_staff_without_a_role_only_looks_and_superusers_do_everything(world, make_user):
    onlooker = client_for(make_user("onlooker", staff=True, roles=()))
    assert all(onlooker.get(page).status_code == 200 for page in VIEW_PAGES)
    assert onlooker.post("/staff/ratings/review/", {"action": "approve"}).status_code == 403
    assert onlooker.post("/staff/payouts/").status_code == 403
    assert b">Payouts<" not in onlooker.get("/rounds/").content  # no link to what they cannot open
    admin = make_user("root", superuser=True)
    assert all(can(admin, permission) for _, _, _, permission in ACTIONS)
    assert client_for(admin).post("/staff/ratings/review/", {"action": "approve"}).status_code == 302
    assert Rating.objects.get().review_status == "approved"


def test_raters_get_403_on_every_staff_action(world):
    rater = Client()
    rater.login(username="rater0", password=PASSWORD)
    for method, path, data, _ in ACTIONS:
        assert getattr(rater, method)(path.format(**world), data).status_code == 403, path


@pytest.mark.django_db
def test_staff_from_before_the_split_keep_every_role(django_user_model):
    migration = importlib.import_module("labeling.migrations.0004_ops_3_roles")
    old_staff = django_user_model.objects.create_user("old-staff", password=PASSWORD, is_staff=True)
    rater = django_user_model.objects.create_user("just-a-rater", password=PASSWORD)
    from django.apps import apps

    migration.put_existing_staff_in_every_role(apps, None)
    old_staff = django_user_model.objects.get(pk=old_staff.pk)  # permissions are cached per instance
    assert all(can(old_staff, codename) for codename in ROLE_OF_PERMISSION)
    assert not rater.groups.exists()
