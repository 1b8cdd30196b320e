"""Django admin for the corpus and the training side, with dataset downloads under the essay list."""

from decimal import Decimal

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.text import Truncator

from .corpus import exporters
from .models import Essay, ModelVersion, Promotion, Prompt, Rewrite, RoundStep, Split, TrainingRound


def excerpt(text: str, chars: int = 80) -> str:
    return Truncator(text.replace("\n", " ")).chars(chars)


class BandRangeFilter(admin.SimpleListFilter):
    title = "reference band"
    parameter_name = "band_range"
    # (lookup, label, lowest, highest): inclusive bounds on Essay.band.
    RANGES = [
        ("4-5", "4 - 5", Decimal("4"), Decimal("5")),
        ("5.5-6.5", "5.5 - 6.5", Decimal("5.5"), Decimal("6.5")),
        ("7-8", "7 - 8", Decimal("7"), Decimal("8")),
        ("8.5-9", "8.5 - 9", Decimal("8.5"), Decimal("9")),
    ]

    def lookups(self, request, model_admin):
        return [("below-4", "below 4")] + [(key, label) for key, label, _, _ in self.RANGES] + [("none", "no band")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "below-4":
            return queryset.filter(Q(band_below_4=True) | Q(band__lt=4))
        if value == "none":
            return queryset.filter(band__isnull=True, band_below_4=False)
        for key, _, lowest, highest in self.RANGES:
            if value == key:
                return queryset.filter(band__gte=lowest, band__lte=highest)
        return queryset


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    list_display = ["id", "short_text", "essay_count", "created_at"]
    search_fields = ["text", "=text_hash"]
    readonly_fields = ["text_hash", "created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(essay_total=Count("essays"))

    @admin.display(description="prompt")
    def short_text(self, prompt):
        return excerpt(prompt.text, 120)

    @admin.display(description="essays", ordering="essay_total")
    def essay_count(self, prompt):
        return prompt.essay_total


@admin.register(Essay)
class EssayAdmin(admin.ModelAdmin):
    change_list_template = "admin/labeling/essay/change_list.html"
    list_display = ["id", "short_text", "short_question", "split", "origin", "band_display", "words", "created_at"]
    list_filter = ["split", "origin", BandRangeFilter, "band_below_4"]
    list_select_related = ["prompt"]
    search_fields = ["text", "prompt__text", "origin_id", "=text_hash"]
    raw_id_fields = ["prompt"]
    readonly_fields = ["text_hash", "created_at"]
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["prompt", "text", "split"]}),
        ("Reference bands", {"fields": ["band", "band_below_4", "task_response", "coherence", "lexical", "grammar"]}),
        ("Origin", {"fields": ["origin", "origin_row", "origin_id", "text_hash", "created_at"]}),
        (
            "GPT evaluation (states the label: never a model input)",
            {"classes": ["collapse"], "fields": ["leaky_evaluation"]},
        ),
    ]

    @admin.display(description="essay")
    def short_text(self, essay):
        return excerpt(essay.text)

    @admin.display(description="question", ordering="prompt__text")
    def short_question(self, essay):
        return excerpt(essay.question, 60)

    @admin.display(description="band", ordering="band")
    def band_display(self, essay):
        if essay.band_below_4:
            return "<4"
        return essay.band if essay.band is not None else "-"

    @admin.display(description="words")
    def words(self, essay):
        return essay.word_count

    def get_urls(self):
        export = path("export/", self.admin_site.admin_view(self.export_view), name="labeling_essay_export")
        return [export] + super().get_urls()

    def export_view(self, request):
        """The export page; with ?format=... it streams that export as a download."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        fmt = request.GET.get("format")
        round_value = request.GET.get("round") or None
        split = request.GET.get("split") or None
        if fmt:
            if fmt not in exporters.FORMATS or (split and split not in Split.values):
                raise Http404("unknown export format or split")
            try:
                round_number = int(round_value) if round_value else None
            except ValueError:
                raise Http404("round must be a number") from None
            return exporters.export_response(fmt, round_number=round_number, split=split)
        context = {
            **self.admin_site.each_context(request),
            "title": "Export dataset",
            "opts": self.model._meta,
            "formats": exporters.FORMATS.values(),
            "rounds": TrainingRound.objects.values_list("number", flat=True),
            "splits": Split.choices,
        }
        return TemplateResponse(request, "admin/labeling/essay/export.html", context)


@admin.register(Rewrite)
class RewriteAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "essay_id",
        "short_text",
        "model_version",
        "training_round",
        "chars_changed",
        "guard_applied",
        "scorer_band_before",
        "scorer_band_after",
        "created_at",
    ]
    list_filter = ["guard_applied", "training_round", "model_version", "essay__split"]
    list_select_related = ["model_version", "training_round"]
    search_fields = ["text", "essay__text"]
    raw_id_fields = ["essay", "model_version", "training_round"]
    readonly_fields = ["created_at"]

    @admin.display(description="rewrite")
    def short_text(self, rewrite):
        return excerpt(rewrite.text)


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "kind", "is_promoted", "training_round", "parent", "artifact_path", "created_at"]
    list_filter = ["kind", "is_promoted"]
    list_select_related = ["training_round", "parent"]
    search_fields = ["name", "artifact_path"]
    raw_id_fields = ["parent", "training_round"]
    # Promotion goes through promote() so the history is kept.
    readonly_fields = ["is_promoted", "created_at"]
    actions = ["promote_selected"]

    @admin.action(description="Promote the selected version (the product uses it from now on)")
    def promote_selected(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version to promote.", messages.ERROR)
            return
        version = queryset.get()
        version.promote(user=request.user, note="promoted in the admin")
        self.message_user(request, f"{version} is now the promoted {version.kind}.", messages.SUCCESS)


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    list_display = ["at", "version", "previous", "user", "note"]
    list_filter = ["version__kind"]
    list_select_related = ["version", "previous", "user"]
    search_fields = ["version__name", "note"]
    date_hierarchy = "at"

    # The promotion history is a record: written by ModelVersion.promote(), never edited here.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RoundStepInline(admin.TabularInline):
    model = RoundStep
    extra = 0
    fields = ["order", "name", "status", "progress_done", "progress_total", "worker", "attempts", "heartbeat_at"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(TrainingRound)
class TrainingRoundAdmin(admin.ModelAdmin):
    list_display = ["number", "recipe", "status", "cancel_requested", "created_by", "created_at", "finished_at"]
    list_filter = ["status", "recipe"]
    list_select_related = ["created_by"]
    search_fields = ["recipe", "error"]
    readonly_fields = ["created_at", "started_at", "finished_at", "active_model_key"]
    inlines = [RoundStepInline]


@admin.register(RoundStep)
class RoundStepAdmin(admin.ModelAdmin):
    list_display = ["training_round", "order", "name", "status", "progress", "worker", "attempts", "heartbeat_at"]
    list_filter = ["status", "name"]
    list_select_related = ["training_round"]
    search_fields = ["name", "worker", "log"]
    raw_id_fields = ["training_round"]

    @admin.display(description="progress")
    def progress(self, step):
        return f"{step.progress_done}/{step.progress_total}"
