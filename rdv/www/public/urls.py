"""Public pages (no account, no agent context): online booking at /prendre-rdv/ and the manage
link /r/<token>. Included by rdv.www.urls under the `public` namespace."""

from django.urls import path

from rdv.www.public import views

app_name = "public"

urlpatterns = [
    path("prendre-rdv/", views.start, name="start"),
]
