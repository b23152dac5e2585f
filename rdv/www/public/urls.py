"""Public pages (no account, no agent context): online booking at /prendre-rdv/ and the manage
link /r/<token>. Included by rdv.www.urls under the `public` namespace."""

from django.urls import path

from rdv.www.public import search

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
    # placeholder until the booking pages (public:hold) exist
    path("prendre-rdv/reserver/", search.hold_placeholder, name="hold"),
]
