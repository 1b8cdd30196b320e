"""Routes of the labeling app; each area adds its own include here."""

urlpatterns = []
