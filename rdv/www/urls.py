from django.urls import path

from rdv.www.views import accounts, espace, organisations, public

urlpatterns = [
    path("", public.home, name="home"),
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
    # Organisation pages (agents)
    path("organisations/<int:organisation_id>/", organisations.home, name="organisation_home"),
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
    path("espace/<int:territory_id>/agents/<int:agent_id>/", espace.agent_edit, name="espace_agent_edit"),
    path("espace/<int:territory_id>/journal/", espace.journal, name="espace_journal"),
]
