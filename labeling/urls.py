"""Routes of the labeling app."""

from django.urls import path

from .rating import rater_views, staff_views
from .training import model_views, round_views

# Training rounds and model versions (staff): labeling/training/round_views.py, labeling/training/model_views.py.
urlpatterns = [
    path("rounds/", round_views.rounds_table, name="rounds"),
    path("rounds/new/", round_views.round_new, name="round_new"),
    path("rounds/compare/", round_views.rounds_compare, name="rounds_compare"),
    path("rounds/<int:number>/", round_views.round_detail, name="round_detail"),
    path("rounds/<int:number>/status.json", round_views.round_status, name="round_status"),
    path("rounds/<int:number>/curves/<str:metric>.png", round_views.round_curve, name="round_curve"),
    path("rounds/<int:number>/scorer-vs-human.png", round_views.round_comparison_chart, name="round_comparison_chart"),
    path("rounds/<int:number>/cancel/", round_views.round_cancel, name="round_cancel"),
    path("rounds/<int:number>/retry/", round_views.round_retry, name="round_retry"),
    path("rounds/<int:number>/export/<str:fmt>/", round_views.round_export, name="round_export"),
    path("models/", model_views.models_list, name="models"),
    path("models/<int:pk>/", model_views.model_detail, name="model_detail"),
    path("models/train-scorer/", model_views.scorer_train, name="scorer_train"),
    path("models/train-scorer/<int:pk>.json", model_views.scorer_training_status, name="scorer_training_status"),
    path("models/<int:pk>/promote/", model_views.model_promote, name="model_promote"),
    path("models/<int:pk>/<str:chart>.png", model_views.model_chart, name="model_chart"),
    path("score/", model_views.score_essay, name="score_essay"),
]

# Rater workspace (raters): labeling/rating/rater_views.py; its staff pages: labeling/rating/staff_views.py.
urlpatterns += [
    path("rate/", rater_views.rater_home, name="rater_home"),
    path("rate/next/", rater_views.rate_next, name="rate_next"),
    path("rate/a/<str:token>/", rater_views.rate_assignment, name="rate_assignment"),
    path("rate/a/<str:token>/submit/", rater_views.rate_submit, name="rate_submit"),
    path("rate/a/<str:token>/skip/", rater_views.rate_skip, name="rate_skip"),
    path("staff/ratings/", staff_views.staff_ratings, name="staff_ratings"),
    path("staff/ratings/agreement/", staff_views.staff_agreement, name="staff_agreement"),
    path("staff/ratings/review/", staff_views.staff_review, name="staff_review"),
    path("staff/ratings/<int:pk>/review/", staff_views.staff_review_rating, name="staff_review_rating"),
    path("staff/raters/", staff_views.staff_raters, name="staff_raters"),
    path("staff/raters/unlock/", staff_views.staff_unlock_login, name="staff_unlock_login"),
    path("staff/raters/<int:pk>/", staff_views.staff_rater_detail, name="staff_rater_detail"),
    path("staff/payouts/", staff_views.staff_payouts, name="staff_payouts"),
    path("staff/payouts/<int:pk>.csv", staff_views.staff_payout_csv, name="staff_payout_csv"),
]
