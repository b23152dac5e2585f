"""Public pages (no account, no agent context): online booking at /prendre-rdv/ and the manage
link /r/<token>. Included by rdv.www.urls under the `public` namespace."""

from django.urls import path

from rdv.www.public import booking, manage, views

app_name = "public"

urlpatterns = [
    path("prendre-rdv/", views.start, name="start"),
    # booking and manage link
    path("prendre-rdv/reserver/", booking.hold, name="hold"),
    path("prendre-rdv/reservation/<uuid:booking_id>/prescripteur/", booking.prescripteur, name="booking_prescripteur"),
    path("prendre-rdv/reservation/<uuid:booking_id>/coordonnees/", booking.details, name="booking_details"),
    path("prendre-rdv/reservation/<uuid:booking_id>/code/", booking.verify, name="booking_verify"),
    path("prendre-rdv/reservation/<uuid:booking_id>/confirmation/", booking.confirmation, name="booking_confirmation"),
    path("prendre-rdv/reservation/<uuid:booking_id>/rendez-vous.ics", booking.ics, name="booking_ics"),
    path("r/<str:token>", manage.manage, name="manage"),
    path("r/<str:token>/annuler/", manage.cancel, name="manage_cancel"),
    path("r/<str:token>/deplacer/", manage.move, name="manage_move"),
    path("r/<str:token>/rendez-vous.ics", manage.ics, name="manage_ics"),
]
