"""URL wiring only."""

from django.urls import include, path

urlpatterns = [
    path("", include("authcheck.api.urls")),
]
