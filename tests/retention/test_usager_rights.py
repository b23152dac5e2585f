"""The usagers' rights (issue 22, RGPD), on the usager's page for the organisation's admins: export
of their data (JSON, CSV) and deletion of their file on request, both journaled; the review of the
files flagged as inactive. Basic agents and other espaces get 404s."""

import csv
import io
import json

import pytest
from django.test import Client
from django.urls import reverse

from rdv.accounts.models import AccessLevel
from rdv.bookings.models import Participation, Rdv, RdvAgent
from rdv.core.context import Context
from rdv.core.errors import DomainError
from rdv.core.models import AuditLog
from rdv.online.models import ManageLink
from rdv.outbox.models import Channel, Delivery
from rdv.outbox.services import enqueue_email
from rdv.retention import services
from rdv.usagers import services as usager_services
from rdv.usagers.models import Usager, UsagerOrganisation
from rdv.webhooks.models import WebhookEvent
from tests import factories
from tests.helpers import as_agent, log_in, page_text
from tests.retention.conftest import DAY, MARKER, NOW, TWO_YEARS, aged

OTHER_MARKER = "AUTRE-PERSONNE-9c2d"


@pytest.fixture
def family(place):
    """Jeanne (a custom field value, notes, a relative), in a collective RDV with someone else, an
    individual past RDV and an upcoming one."""
    field = factories.CustomFieldFactory(territory=place.territory, label="Quartier")
    jeanne = place.usager(
        first_name="Jeanne",
        last_name="Dupont",
        email="jeanne.dupont@exemple.fr",
        phone="+33612345678",
        notes="Préfère le matin",
        custom_values={field.key: "Fontbarlettes"},
    )
    child = place.usager(first_name="Léo", last_name="Dupont", responsible=jeanne)
    other = place.usager(first_name="Autre", last_name=OTHER_MARKER, email="autre@exemple.fr")
    past = place.rdv(NOW - 10 * DAY, [jeanne], context=MARKER)
    upcoming = place.rdv(NOW + 3 * DAY, [jeanne], context="Dossier à compléter")
    collective = place.rdv(NOW + 5 * DAY, [jeanne, other], collective=True, context="Atelier budget")
    return {
        "jeanne": jeanne,
        "child": child,
        "other": other,
        "past": past,
        "upcoming": upcoming,
        "collective": collective,
    }


def admin_client(place) -> Client:
    return log_in(Client(), place.world.organisation_admin)


def url(name, place, usager) -> str:
    return reverse(name, args=[place.organisation.pk, usager.pk])


# Export ------------------------------------------------------------------------------------------------


def test_the_json_export_holds_the_usager_s_data_and_no_one_else_s(place, family):
    response = admin_client(place).get(url("usager_export_json", place, family["jeanne"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    assert response["Cache-Control"] == "no-store"
    text = response.content.decode()
    data = json.loads(text)
    assert data["fiche"]["prénom"] == "Jeanne"
    assert data["fiche"]["adresse e-mail"] == "jeanne.dupont@exemple.fr"
    assert data["fiche"]["remarques"] == "Préfère le matin"
    assert data["champs personnalisés"] == {"Quartier": "Fontbarlettes"}
    assert [relative["prénom"] for relative in data["proches"]] == ["Léo"]
    assert data["organisations"] == [place.organisation.name]
    rdvs = data["rendez-vous"]
    assert [rdv["identifiant"] for rdv in rdvs] == [family["past"].pk, family["upcoming"].pk, family["collective"].pk]
    assert rdvs[0]["motif"] == "Premier accueil"
    assert rdvs[0]["lieu"] == "MDS Centre"
    assert rdvs[0]["statut"] == "À venir"
    assert rdvs[0]["contexte"] == MARKER
    assert rdvs[2]["collectif"] is True and rdvs[2]["statut de l’usager"] == "À venir"
    # Nothing about the other participant of the collective RDV.
    assert OTHER_MARKER not in text and "autre@exemple.fr" not in text


def test_the_csv_export_is_parseable_and_holds_the_same(place, family):
    response = admin_client(place).get(url("usager_export_csv", place, family["jeanne"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert rows[0] == ["Rubrique", "Champ", "Valeur"]
    assert all(len(row) == 3 for row in rows)
    assert ["Fiche", "prénom", "Jeanne"] in rows
    assert ["Champs personnalisés", "Quartier", "Fontbarlettes"] in rows
    assert ["Proche 1", "prénom", "Léo"] in rows
    assert ["Rendez-vous 1", "contexte", MARKER] in rows
    assert ["Rendez-vous 3", "collectif", "oui"] in rows
    assert OTHER_MARKER not in text


def test_a_phone_number_cannot_become_a_formula_in_the_csv(place, family):
    text = b"".join(
        admin_client(place).get(url("usager_export_csv", place, family["jeanne"])).streaming_content
    ).decode()
    assert ";'+33612345678" in text


def test_an_export_is_journaled_without_naming_the_usager(place, family):
    admin_client(place).get(url("usager_export_json", place, family["jeanne"]))
    entry = AuditLog.objects.get(action="usager.exported")
    assert entry.actor == place.world.organisation_admin
    assert entry.object_id == str(family["jeanne"].pk)
    assert entry.object_repr == f"Usager n° {family['jeanne'].pk}"
    assert entry.changes == {"format": "JSON"}
    page = page_text(log_in(Client(), place.world.territory_admin).get(f"/espace/{place.territory.pk}/journal/"))
    assert "Données de l'usager exportées (RGPD)" in page
    assert "Jeanne" not in page


def test_an_export_sends_no_webhook(place, family):
    place.endpoint(subscriptions=["user"])
    admin_client(place).get(url("usager_export_json", place, family["jeanne"]))
    assert not WebhookEvent.objects.exists()


# Rights -------------------------------------------------------------------------------------------------

RIGHTS_URLS = ["usager_export_json", "usager_export_csv", "usager_delete"]


@pytest.mark.parametrize("name", RIGHTS_URLS)
def test_a_basic_agent_gets_a_404_and_nothing_changes(place, family, name):
    client = log_in(Client(), place.world.agent)
    before = AuditLog.objects.count()
    assert client.get(url(name, place, family["jeanne"])).status_code == 404
    assert client.post(url(name, place, family["jeanne"]), {"confirmer": "1"}).status_code in (404, 405)
    assert AuditLog.objects.count() == before
    assert Usager.objects.filter(pk=family["jeanne"].pk).exists()


@pytest.mark.parametrize("name", RIGHTS_URLS)
def test_another_espace_gets_a_404(place, other_place, family, name):
    client = log_in(Client(), other_place.world.territory_admin)
    other_url = reverse(name, args=[other_place.organisation.pk, family["jeanne"].pk])
    assert client.get(other_url).status_code == 404
    assert client.get(url(name, place, family["jeanne"])).status_code == 404  # not a member there
    assert client.post(other_url, {"confirmer": "1"}).status_code in (404, 405)
    assert Usager.objects.filter(pk=family["jeanne"].pk).exists()


def test_an_admin_of_an_organisation_the_usager_does_not_belong_to_gets_a_404(place, family):
    nord_admin = factories.AgentFactory(email="nord-admin@exemple.fr")
    factories.AgentRoleFactory(
        agent=nord_admin, organisation=place.world.other_organisation, access_level=AccessLevel.ADMIN
    )
    place.territory.usagers_visible_territory_wide = True  # readable there, still not theirs
    place.territory.save()
    client = log_in(Client(), nord_admin)
    other_url = reverse("usager_export_json", args=[place.world.other_organisation.pk, family["jeanne"].pk])
    assert client.get(other_url).status_code == 404


def test_a_file_shared_with_another_organisation_is_for_espace_admins_only(place, family):
    jeanne = family["jeanne"]
    UsagerOrganisation.objects.create(usager=jeanne, organisation=place.world.other_organisation)
    client = admin_client(place)  # admin of the organisation, not of the espace
    response = client.get(url("usager_export_json", place, jeanne), follow=True)
    assert "seul un administrateur de l’espace" in page_text(response)
    response = client.post(url("usager_delete", place, jeanne), {"confirmer": "1"}, follow=True)
    assert "seul un administrateur de l’espace" in page_text(response)
    assert Usager.objects.filter(pk=jeanne.pk).exists()
    assert not AuditLog.objects.filter(action__in=["usager.exported", "usager.deleted"]).exists()
    detail = page_text(client.get(url("usager_detail", place, jeanne)))
    assert "Exporter les données" not in detail and "seul un administrateur de l’espace" in detail
    # The espace admin (also admin of the organisation) may.
    espace_admin = log_in(Client(), place.world.territory_admin)
    assert espace_admin.get(url("usager_export_json", place, jeanne)).status_code == 200
    assert "Exporter les données (JSON)" in page_text(espace_admin.get(url("usager_detail", place, jeanne)))


def test_the_services_refuse_a_basic_agent(place, family):
    ctx = as_agent(place.world.agent, place.organisation)
    for call in (
        lambda: services.export_usager(ctx, family["jeanne"], format="json"),
        lambda: services.delete_usager(ctx, family["jeanne"]),
        lambda: services.keep_usager(ctx, family["jeanne"]),
    ):
        with pytest.raises(DomainError) as caught:
            call()
        assert caught.value.code == "forbidden"


def test_an_unknown_export_format_is_refused(place, family):
    with pytest.raises(DomainError) as caught:
        services.export_usager(Context.system(place.territory, place.organisation), family["jeanne"], format="xml")
    assert caught.value.code == "invalid_format"
    assert not AuditLog.objects.filter(action="usager.exported").exists()


def test_the_usager_page_shows_the_buttons_to_admins_only(place, family):
    detail = url("usager_detail", place, family["jeanne"])
    admin_page = page_text(admin_client(place).get(detail))
    assert "Exporter les données (JSON)" in admin_page and "Supprimer l’usager" in admin_page
    basic_page = page_text(log_in(Client(), place.world.agent).get(detail))
    assert "Exporter les données" not in basic_page and "Supprimer l’usager" not in basic_page


# Deletion on request ---------------------------------------------------------------------------------


def test_the_deletion_first_says_what_it_removes(place, family):
    response = admin_client(place).get(url("usager_delete", place, family["jeanne"]))
    page = page_text(response)
    assert response.status_code == 200
    assert "Supprimer la fiche de Jeanne DUPONT ?" in page
    assert "1 rendez-vous à venir est supprimé" in page  # the collective one stays
    assert "Rendez-vous collectif quitté" in page
    assert "Le proche rattaché à cet usager garde sa fiche" in page
    assert Usager.objects.filter(pk=family["jeanne"].pk).exists()


def test_a_post_without_the_confirmation_deletes_nothing(place, family):
    response = admin_client(place).post(url("usager_delete", place, family["jeanne"]), {"confirmer": "oui"})
    assert response.status_code == 200
    assert Usager.objects.filter(pk=family["jeanne"].pk).exists()
    assert Rdv.objects.count() == 3


def test_a_confirmed_deletion_deletes_the_file_and_its_own_rdvs(place, family):
    endpoint = place.endpoint(subscriptions=["rdv", "user"])
    jeanne, child, other = family["jeanne"], family["child"], family["other"]
    ManageLink.objects.create(rdv=family["upcoming"], usager=jeanne, token_hash="lien-jeanne")
    ManageLink.objects.create(rdv=family["collective"], usager=jeanne, token_hash="lien-atelier")
    enqueue_email(to=jeanne.email, subject="Rappel", text="…", territory=place.territory)
    enqueue_email(to=other.email, subject="Rappel", text="…", territory=place.territory)
    usager_services.update_usager(Context.system(place.territory, place.organisation), jeanne, {"city": "Valence"})
    WebhookEvent.objects.all().delete()
    client = admin_client(place)
    response = client.post(url("usager_delete", place, jeanne), {"confirmer": "1"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("usager_list", args=[place.organisation.pk])
    assert "La fiche de Jeanne DUPONT est supprimée, avec 2 rendez-vous." in page_text(response)
    assert not Usager.objects.filter(pk=jeanne.pk).exists()
    # Her own RDVs are gone; the collective one stays for the other participant.
    assert list(Rdv.objects.values_list("pk", flat=True)) == [family["collective"].pk]
    assert list(Participation.objects.values_list("usager_id", flat=True)) == [other.pk]
    assert RdvAgent.objects.filter(rdv_id__in=[family["past"].pk, family["upcoming"].pk]).count() == 0
    assert not ManageLink.objects.exists()
    # The relative keeps their file, detached.
    child.refresh_from_db()
    assert child.responsible_id is None
    # Messages to her address are gone, not the others'.
    assert list(Delivery.objects.filter(channel=Channel.EMAIL).values_list("recipient", flat=True)) == [other.email]
    # Her file's history is gone with it; the deletion entry names no one.
    assert not AuditLog.objects.filter(object_type="usagers.Usager", object_id=str(jeanne.pk)).exclude(
        action="usager.deleted"
    )
    entry = AuditLog.objects.get(action="usager.deleted")
    assert entry.actor == place.world.organisation_admin
    assert entry.object_repr == f"Usager n° {jeanne.pk}"
    assert entry.changes == {
        "deletion": "à la demande de l’usager",
        "rdvs_deleted": 2,
        "rdvs_left": 1,
        "relatives_detached": 1,
    }
    # The information system: both RDVs and the file destroyed (rgpd), the collective RDV updated,
    # the relative updated (no responsible any more).
    events = {
        (event.model, event.record_id): (event.event, json.loads(event.delivery.text)["meta"]["webhook_reason"])
        for event in WebhookEvent.objects.filter(endpoint=endpoint)
    }
    assert events == {
        ("Rdv", family["past"].pk): ("destroyed", "rgpd"),
        ("Rdv", family["upcoming"].pk): ("destroyed", "rgpd"),
        ("Rdv", family["collective"].pk): ("updated", None),
        ("User", jeanne.pk): ("destroyed", "rgpd"),
        ("User", child.pk): ("updated", None),
    }
    collective_body = json.loads(WebhookEvent.objects.get(model="Rdv", record_id=family["collective"].pk).delivery.text)
    assert [user["id"] for user in collective_body["data"]["users"]] == [other.pk]


def test_a_deletion_sends_no_message_to_anyone(place, family):
    before = Delivery.objects.exclude(channel=Channel.WEBHOOK).count()
    services.delete_usager(as_agent(place.world.organisation_admin, place.organisation), family["jeanne"])
    assert Delivery.objects.exclude(channel=Channel.WEBHOOK).count() == before


def test_the_deletion_is_in_the_espace_journal(place, family):
    admin_client(place).post(url("usager_delete", place, family["jeanne"]), {"confirmer": "1"})
    page = page_text(log_in(Client(), place.world.territory_admin).get(f"/espace/{place.territory.pk}/journal/"))
    assert "Usager supprimé (RGPD)" in page
    assert f"Usager n° {family['jeanne'].pk}" in page
    assert "Rendez-vous supprimé (RGPD)" in page


# Review of inactive files ---------------------------------------------------------------------------


@pytest.fixture
def flagged(place):
    usager = aged(place.usager(first_name="Paul", last_name="Ancien"), NOW - TWO_YEARS - DAY)
    services.review_inactive_usagers()
    usager.refresh_from_db()
    return usager


def test_admins_see_a_banner_and_the_list_of_files_to_review(place, flagged):
    client = admin_client(place)
    listing = page_text(client.get(reverse("usager_list", args=[place.organisation.pk])))
    assert "1 fiche inactive à examiner" in listing
    review = page_text(client.get(reverse("usager_review", args=[place.organisation.pk])))
    assert "ANCIEN Paul" in review
    assert "08/04/2027" in review  # due 30 days after flagging
    detail = page_text(client.get(url("usager_detail", place, flagged)))
    assert "Fiche inactive : suppression prévue le 08/04/2027" in detail


def test_basic_agents_see_no_banner_and_no_review_page(place, flagged):
    client = log_in(Client(), place.world.agent)
    listing = page_text(client.get(reverse("usager_list", args=[place.organisation.pk])))
    assert "à examiner" not in listing
    assert client.get(reverse("usager_review", args=[place.organisation.pk])).status_code == 404
    assert client.post(url("usager_keep", place, flagged)).status_code == 404
    assert Usager.objects.get(pk=flagged.pk).retention_flagged_at is not None


def test_keeping_a_file_from_the_review_page(place, flagged):
    client = admin_client(place)
    response = client.post(url("usager_keep", place, flagged), follow=True)
    assert "La fiche de Paul ANCIEN est conservée" in page_text(response)
    flagged.refresh_from_db()
    assert flagged.retention_flagged_at is None and flagged.retention_kept_at == NOW
    assert "Aucune fiche à examiner." in page_text(client.get(reverse("usager_review", args=[place.organisation.pk])))
    again = client.post(url("usager_keep", place, flagged), {"retour": "fiche"}, follow=True)
    assert "n’est pas signalée pour suppression" in page_text(again)
    assert AuditLog.objects.filter(action="usager.retention_kept").count() == 1
