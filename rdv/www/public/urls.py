"""Public pages (no account, no agent context): online booking at /prendre-rdv/, the manage
link /r/<token> and the open-data feed at /donnees/. Included by rdv.www.urls under the `public` namespace."""

from django.urls import path

from rdv.www.public import booking, manage, opendata, preferences, search

app_name = "public"

urlpatterns = [
    # search
    path("prendre-rdv/", search.start, name="start"),
    path("prendre-rdv/prescripteur/", search.prescripteur, name="prescripteur"),
    path("prendre-rdv/service/", search.services, name="services"),
    path("prendre-rdv/motif/", search.motifs, name="motifs"),
    path("prendre-rdv/informations/", search.instructions, name="instructions"),
    path("prendre-rdv/lieu/", search.lieux, name="lieux"),
    path("prendre-rdv/creneaux/", search.week, name="week"),
    path("prendre-rdv/e/<int:territory_id>/", search.short_espace, name="short_espace"),
    path("prendre-rdv/o/<int:organisation_id>/", search.short_organisation, name="short_organisation"),
    path("prendre-rdv/l/<int:lieu_id>/", search.short_lieu, name="short_lieu"),
    path("prendre-rdv/m/<int:motif_id>/", search.short_motif, name="short_motif"),
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
    path("notifications/<str:token>/", preferences.preferences, name="notification_preferences"),
    # open data: the next free slots of an espace
    path(
        "donnees/espaces/<int:territory_id>/prochaines-disponibilites.json",
        opendata.feed_json,
        name="availability_feed_json",
    ),
    path(
        "donnees/espaces/<int:territory_id>/prochaines-disponibilites.csv",
        opendata.feed_csv,
        name="availability_feed_csv",
    ),
]
