from django.urls import include, path

from rdv.www.views import (
    accounts,
    agent_api_tokens,
    agent_notifications,
    espace,
    espace_sectors,
    espace_settings,
    organisations,
    outbox,
    public,
    stats,
    usager_rights,
    usagers,
    webhooks,
)
from rdv.www.views import agendas as agenda_views
from rdv.www.views import bookings as booking_views
from rdv.www.views import motifs as motif_views

urlpatterns = [
    path("", public.home, name="home"),
    path("", include("rdv.www.public.urls")),  # the public pages: /prendre-rdv/…, /r/<token>
    # Agent accounts
    path("connexion/", accounts.LoginView.as_view(), name="login"),
    path("deconnexion/", accounts.logout_view, name="logout"),
    path("mot-de-passe/oubli/", accounts.PasswordResetView.as_view(), name="password_reset"),
    path("mot-de-passe/oubli/envoye/", accounts.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "mot-de-passe/nouveau/<uidb64>/<token>/",
        accounts.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "mot-de-passe/nouveau/termine/",
        accounts.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("invitation/<str:token>/", accounts.accept_invitation, name="accept_invitation"),
    # The agent's own pages, and their calendar feed (no session: the token is the key).
    path("mon-compte/notifications/", agent_notifications.notifications, name="agent_notifications"),
    path(
        "mon-compte/notifications/agenda/creer/",
        agent_notifications.calendar_feed_create,
        name="calendar_feed_create",
    ),
    path(
        "mon-compte/notifications/agenda/revoquer/",
        agent_notifications.calendar_feed_revoke,
        name="calendar_feed_revoke",
    ),
    path("mon-compte/api/", agent_api_tokens.api_tokens, name="agent_api_tokens"),
    path("mon-compte/api/<int:token_id>/revoquer/", agent_api_tokens.api_token_revoke, name="api_token_revoke"),
    path("calendrier/<str:token>.ics", agent_notifications.calendar_feed, name="calendar_feed"),
    # Organisation pages (agents)
    path("organisations/<int:organisation_id>/", organisations.home, name="organisation_home"),
    path("organisations/<int:organisation_id>/statistiques/", stats.organisation_stats, name="organisation_stats"),
    path(
        "organisations/<int:organisation_id>/sectorisation/",
        espace_sectors.organisation_sectors,
        name="organisation_sectors",
    ),
    path(
        "organisations/<int:organisation_id>/sectorisation/<int:code_id>/retirer/",
        espace_sectors.organisation_sector_delete,
        name="organisation_sector_delete",
    ),
    path("organisations/<int:organisation_id>/usagers/", usagers.usager_list, name="usager_list"),
    path("organisations/<int:organisation_id>/usagers/nouveau/", usagers.usager_create, name="usager_create"),
    path("organisations/<int:organisation_id>/usagers/<int:usager_id>/", usagers.usager_detail, name="usager_detail"),
    path(
        "organisations/<int:organisation_id>/usagers/<int:usager_id>/modifier/",
        usagers.usager_edit,
        name="usager_edit",
    ),
    path(
        "organisations/<int:organisation_id>/usagers/<int:usager_id>/ajouter/",
        usagers.usager_add_to_organisation,
        name="usager_add_to_organisation",
    ),
    # Usagers' rights and data retention (RGPD), for the organisation's admins
    path(
        "organisations/<int:organisation_id>/usagers/a-examiner/",
        usager_rights.usager_review,
        name="usager_review",
    ),
    path(
        "organisations/<int:organisation_id>/usagers/<int:usager_id>/donnees.json",
        usager_rights.usager_export_json,
        name="usager_export_json",
    ),
    path(
        "organisations/<int:organisation_id>/usagers/<int:usager_id>/donnees.csv",
        usager_rights.usager_export_csv,
        name="usager_export_csv",
    ),
    path(
        "organisations/<int:organisation_id>/usagers/<int:usager_id>/supprimer/",
        usager_rights.usager_delete,
        name="usager_delete",
    ),
    path(
        "organisations/<int:organisation_id>/usagers/<int:usager_id>/conserver/",
        usager_rights.usager_keep,
        name="usager_keep",
    ),
    # Espace administration
    path("espace/<int:territory_id>/", espace.index, name="espace_index"),
    path("espace/<int:territory_id>/services/", espace.services, name="espace_services"),
    path(
        "espace/<int:territory_id>/services/<int:service_id>/<str:operation>/",
        espace.service_toggle,
        name="espace_service_toggle",
    ),
    path("espace/<int:territory_id>/organisations/", espace.organisations, name="espace_organisations"),
    path(
        "espace/<int:territory_id>/organisations/nouvelle/",
        espace.organisation_create,
        name="espace_organisation_create",
    ),
    path(
        "espace/<int:territory_id>/organisations/<int:organisation_id>/modifier/",
        espace.organisation_edit,
        name="espace_organisation_edit",
    ),
    path(
        "espace/<int:territory_id>/organisations/<int:organisation_id>/sectorisation/",
        espace_sectors.espace_sectors,
        name="espace_organisation_sectors",
    ),
    path(
        "espace/<int:territory_id>/organisations/<int:organisation_id>/sectorisation/<int:code_id>/retirer/",
        espace_sectors.espace_sector_delete,
        name="espace_organisation_sector_delete",
    ),
    path("espace/<int:territory_id>/invitations/", espace.invitations, name="espace_invitations"),
    path("espace/<int:territory_id>/invitations/nouvelle/", espace.invite, name="espace_invite"),
    path(
        "espace/<int:territory_id>/invitations/<int:invitation_id>/renvoyer/",
        espace.invitation_resend,
        name="espace_invitation_resend",
    ),
    path(
        "espace/<int:territory_id>/invitations/<int:invitation_id>/annuler/",
        espace.invitation_cancel,
        name="espace_invitation_cancel",
    ),
    path("espace/<int:territory_id>/agents/", espace.agents, name="espace_agents"),
    path("espace/<int:territory_id>/agents/intervenant/", espace.intervenant_add, name="espace_intervenant_add"),
    path("espace/<int:territory_id>/agents/<int:agent_id>/", espace.agent_edit, name="espace_agent_edit"),
    path("espace/<int:territory_id>/journal/", espace.journal, name="espace_journal"),
    path("espace/<int:territory_id>/statistiques/", stats.espace_stats, name="espace_stats"),
    path("espace/<int:territory_id>/envois/", outbox.espace_deliveries, name="espace_deliveries"),
    path(
        "espace/<int:territory_id>/envois/<int:delivery_id>/renvoyer/",
        outbox.espace_delivery_retry,
        name="espace_delivery_retry",
    ),
    path("organisations/<int:organisation_id>/envois/", outbox.organisation_deliveries, name="organisation_deliveries"),
    path(
        "organisations/<int:organisation_id>/envois/<int:delivery_id>/renvoyer/",
        outbox.organisation_delivery_retry,
        name="organisation_delivery_retry",
    ),
    # Webhooks of the espace's organisations (issue 19)
    path("espace/<int:territory_id>/webhooks/", webhooks.webhook_list, name="webhook_list"),
    path("espace/<int:territory_id>/webhooks/nouveau/", webhooks.webhook_new, name="webhook_new"),
    path("espace/<int:territory_id>/webhooks/documentation/", webhooks.webhook_docs, name="webhook_docs"),
    path("espace/<int:territory_id>/webhooks/<int:endpoint_id>/", webhooks.webhook_edit, name="webhook_edit"),
    path(
        "espace/<int:territory_id>/webhooks/<int:endpoint_id>/cle/",
        webhooks.webhook_rotate,
        name="webhook_rotate",
    ),
    path(
        "espace/<int:territory_id>/webhooks/<int:endpoint_id>/cle/retirer-l-ancienne/",
        webhooks.webhook_end_grace,
        name="webhook_end_grace",
    ),
    path("espace/<int:territory_id>/webhooks/<int:endpoint_id>/test/", webhooks.webhook_test, name="webhook_test"),
    path(
        "espace/<int:territory_id>/webhooks/<int:endpoint_id>/supprimer/",
        webhooks.webhook_delete,
        name="webhook_delete",
    ),
    path("espace/<int:territory_id>/webhooks/<int:endpoint_id>/journal/", webhooks.webhook_log, name="webhook_log"),
    path(
        "espace/<int:territory_id>/webhooks/<int:endpoint_id>/journal/<int:event_id>/renvoyer/",
        webhooks.webhook_replay,
        name="webhook_replay",
    ),
    path(
        "espace/<int:territory_id>/webhooks/<int:endpoint_id>/journal/renvoyer-les-echecs/",
        webhooks.webhook_replay_failed,
        name="webhook_replay_failed",
    ),
    # Espace settings (Paramètres)
    path("espace/<int:territory_id>/parametres/", espace_settings.index, name="espace_settings"),
    path(
        "espace/<int:territory_id>/parametres/fiche-usager/",
        espace_settings.usager_fields,
        name="espace_settings_usager_fields",
    ),
    path(
        "espace/<int:territory_id>/parametres/visibilite-usagers/",
        espace_settings.usager_visibility,
        name="espace_settings_usager_visibility",
    ),
    path(
        "espace/<int:territory_id>/parametres/reservation-en-ligne/",
        espace_settings.online_booking,
        name="espace_settings_online_booking",
    ),
    path(
        "espace/<int:territory_id>/parametres/champs-personnalises/",
        espace_settings.custom_fields,
        name="espace_custom_fields",
    ),
    path(
        "espace/<int:territory_id>/parametres/champs-personnalises/nouveau/",
        espace_settings.custom_field_create,
        name="espace_custom_field_create",
    ),
    path(
        "espace/<int:territory_id>/parametres/champs-personnalises/<int:field_id>/modifier/",
        espace_settings.custom_field_edit,
        name="espace_custom_field_edit",
    ),
    path(
        "espace/<int:territory_id>/parametres/champs-personnalises/<int:field_id>/archiver/",
        espace_settings.custom_field_archive,
        name="espace_custom_field_archive",
    ),
    path(
        "espace/<int:territory_id>/parametres/champs-personnalises/<int:field_id>/restaurer/",
        espace_settings.custom_field_restore,
        name="espace_custom_field_restore",
    ),
    path(
        "espace/<int:territory_id>/parametres/champs-personnalises/<int:field_id>/<str:direction>/",
        espace_settings.custom_field_move,
        name="espace_custom_field_move",
    ),
    path(
        "espace/<int:territory_id>/parametres/fiche-rdv/",
        espace_settings.rdv_fields,
        name="espace_settings_rdv_fields",
    ),
    path(
        "espace/<int:territory_id>/parametres/salle-d-attente/",
        espace_settings.waiting_room,
        name="espace_settings_waiting_room",
    ),
    path(
        "espace/<int:territory_id>/parametres/rappels/",
        espace_settings.reminders,
        name="espace_settings_reminders",
    ),
    path(
        "espace/<int:territory_id>/parametres/jours-feries/",
        espace_settings.holidays,
        name="espace_settings_holidays",
    ),
    path("espace/<int:territory_id>/parametres/sms/", espace_settings.sms, name="espace_settings_sms"),
]

# Motifs: espace level (espace admins) and organisation level (organisation members).
urlpatterns += [
    path("espace/<int:territory_id>/motifs/", motif_views.espace_motifs, name="espace_motifs"),
    path("espace/<int:territory_id>/motifs/nouveau/", motif_views.espace_motif_create, name="espace_motif_create"),
    path("espace/<int:territory_id>/motifs/<int:motif_id>/", motif_views.espace_motif, name="espace_motif"),
    path(
        "espace/<int:territory_id>/motifs/<int:motif_id>/configuration/",
        motif_views.espace_motif,
        {"tab": "configuration"},
        name="espace_motif_configuration",
    ),
    path(
        "espace/<int:territory_id>/motifs/<int:motif_id>/reservation-en-ligne/",
        motif_views.espace_motif,
        {"tab": "reservation"},
        name="espace_motif_online_booking",
    ),
    path(
        "espace/<int:territory_id>/motifs/<int:motif_id>/instructions/",
        motif_views.espace_motif,
        {"tab": "instructions"},
        name="espace_motif_instructions",
    ),
    path(
        "espace/<int:territory_id>/motifs/<int:motif_id>/dupliquer/",
        motif_views.espace_motif_operation,
        {"operation": "duplicate"},
        name="espace_motif_duplicate",
    ),
    path(
        "espace/<int:territory_id>/motifs/<int:motif_id>/archiver/",
        motif_views.espace_motif_operation,
        {"operation": "archive"},
        name="espace_motif_archive",
    ),
    path(
        "espace/<int:territory_id>/motifs/<int:motif_id>/restaurer/",
        motif_views.espace_motif_operation,
        {"operation": "restore"},
        name="espace_motif_restore",
    ),
    path("organisations/<int:organisation_id>/motifs/", motif_views.organisation_motifs, name="organisation_motifs"),
    path(
        "organisations/<int:organisation_id>/motifs/nouveau/",
        motif_views.organisation_motif_create,
        name="organisation_motif_create",
    ),
    path(
        "organisations/<int:organisation_id>/motifs/<int:motif_id>/",
        motif_views.organisation_motif,
        name="organisation_motif",
    ),
    path(
        "organisations/<int:organisation_id>/motifs/<int:motif_id>/configuration/",
        motif_views.organisation_motif,
        {"tab": "configuration"},
        name="organisation_motif_configuration",
    ),
    path(
        "organisations/<int:organisation_id>/motifs/<int:motif_id>/reservation-en-ligne/",
        motif_views.organisation_motif,
        {"tab": "reservation"},
        name="organisation_motif_online_booking",
    ),
    path(
        "organisations/<int:organisation_id>/motifs/<int:motif_id>/instructions/",
        motif_views.organisation_motif,
        {"tab": "instructions"},
        name="organisation_motif_instructions",
    ),
    path(
        "organisations/<int:organisation_id>/motifs/<int:motif_id>/dupliquer/",
        motif_views.organisation_motif_operation,
        {"operation": "duplicate"},
        name="organisation_motif_duplicate",
    ),
    path(
        "organisations/<int:organisation_id>/motifs/<int:motif_id>/archiver/",
        motif_views.organisation_motif_operation,
        {"operation": "archive"},
        name="organisation_motif_archive",
    ),
    path(
        "organisations/<int:organisation_id>/motifs/<int:motif_id>/restaurer/",
        motif_views.organisation_motif_operation,
        {"operation": "restore"},
        name="organisation_motif_restore",
    ),
]

# Agendas: lieux, plages d'ouverture, absences, week view, slot search (organisation members).
AGENDA = "organisations/<int:organisation_id>/agents/<int:agent_id>/"
PLAGE = AGENDA + "plages/<int:plage_id>/"
OCCURRENCE = PLAGE + "occurrences/<str:day>/"
urlpatterns += [
    path("organisations/<int:organisation_id>/lieux/", agenda_views.lieu_list, name="lieu_list"),
    path("organisations/<int:organisation_id>/lieux/nouveau/", agenda_views.lieu_create, name="lieu_create"),
    path("organisations/<int:organisation_id>/lieux/<int:lieu_id>/modifier/", agenda_views.lieu_edit, name="lieu_edit"),
    path(
        "organisations/<int:organisation_id>/lieux/<int:lieu_id>/archiver/",
        agenda_views.lieu_archive,
        name="lieu_archive",
    ),
    path(
        "organisations/<int:organisation_id>/lieux/<int:lieu_id>/restaurer/",
        agenda_views.lieu_restore,
        name="lieu_restore",
    ),
    path("organisations/<int:organisation_id>/agents/", agenda_views.agenda_agents, name="agenda_agents"),
    path(AGENDA + "semaine/", agenda_views.agenda_week, name="agenda_week"),
    path(AGENDA + "plages/", agenda_views.plage_list, name="plage_list"),
    path(AGENDA + "plages/nouvelle/", agenda_views.plage_create, name="plage_create"),
    path(PLAGE + "modifier/", agenda_views.plage_edit, name="plage_edit"),
    path(PLAGE + "supprimer/", agenda_views.plage_delete, name="plage_delete"),
    path(OCCURRENCE, agenda_views.plage_occurrence, name="plage_occurrence"),
    path(OCCURRENCE + "annuler/", agenda_views.plage_occurrence_cancel, name="plage_occurrence_cancel"),
    path(OCCURRENCE + "retablir/", agenda_views.plage_occurrence_restore, name="plage_occurrence_restore"),
    path(OCCURRENCE + "et-suivantes/", agenda_views.plage_edit_following, name="plage_edit_following"),
    path(AGENDA + "absences/", agenda_views.absence_list, name="absence_list"),
    path(AGENDA + "absences/nouvelle/", agenda_views.absence_create, name="absence_create"),
    path(AGENDA + "absences/<int:absence_id>/modifier/", agenda_views.absence_edit, name="absence_edit"),
    path(AGENDA + "absences/<int:absence_id>/supprimer/", agenda_views.absence_delete, name="absence_delete"),
    path("organisations/<int:organisation_id>/trouver-un-creneau/", agenda_views.slot_search, name="slot_search"),
]

# Agenda of RDVs and RDV pages (organisation members; RDVs scoped by rdv.bookings.perms).
ORG = "organisations/<int:organisation_id>/"
RDV = ORG + "rdvs/<int:rdv_id>/"
urlpatterns += [
    path(ORG + "agenda/", booking_views.agenda, name="agenda"),
    path(ORG + "agenda/salle-d-attente/", booking_views.agenda_arrivals, name="agenda_arrivals"),
    path(ORG + "agenda/grille/", booking_views.agenda_grid_fragment, name="agenda_grid"),
    path(ORG + "agenda/rdvs/<int:rdv_id>/deplacer/", booking_views.agenda_move, name="agenda_move"),
    path(ORG + "rdvs/", booking_views.rdv_list, name="rdv_list"),
    path(ORG + "rdvs/nouveau/", booking_views.rdv_create, name="rdv_create"),
    path(ORG + "rdvs/nouveau/usagers/", booking_views.usager_search, name="rdv_usager_search"),
    path(RDV, booking_views.rdv_detail, name="rdv_detail"),
    path(RDV + "modifier/", booking_views.rdv_edit, name="rdv_edit"),
    path(RDV + "deplacer/", booking_views.rdv_move, name="rdv_move"),
    path(RDV + "statut/", booking_views.rdv_status, name="rdv_status"),
    path(RDV + "annuler/", booking_views.rdv_cancel, name="rdv_cancel"),
    path(RDV + "arrivee/", booking_views.rdv_arrival, name="rdv_arrival"),
    path(
        RDV + "liens-de-gestion/<int:link_id>/revoquer/",
        booking_views.rdv_manage_link_revoke,
        name="rdv_manage_link_revoke",
    ),
    path(RDV + "participants/ajouter/", booking_views.rdv_participant_add, name="rdv_participant_add"),
    path(
        RDV + "participants/<int:usager_id>/retirer/",
        booking_views.rdv_participant_remove,
        name="rdv_participant_remove",
    ),
]
