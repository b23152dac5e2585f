"""The audit log: every change made through a service function writes one entry here.

`log_action` is the single place where side effects of a change will hook in (webhook
deliveries and notifications are enqueued from here, inside the same transaction).
"""

from collections.abc import Callable, Iterable
from typing import Any

from django.db import models

from rdv.core.models import AuditLog


def _resolve_tenant(obj: Any) -> tuple[Any, Any]:
    """Find (territory, organisation) of an object from its usual attributes (core imports no other
    app: the espace and organisation models are recognised by their label)."""
    label = obj._meta.label if isinstance(obj, models.Model) else ""
    if label == "territories.Territory":
        return obj, None
    if label == "territories.Organisation":
        return obj.territory, obj
    organisation = getattr(obj, "organisation", None)
    territory = getattr(obj, "territory", None)
    if territory is None and organisation is not None:
        territory = organisation.territory
    return territory, organisation


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, models.Model):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


# Functions told of every entry, inside the change's transaction: (entry, obj, related), where
# `related` names objects the entry's text only mentions (e.g. {"usager": <Usager>}). Side effects that
# must not be lost nor sent for a rolled-back change hook in here (webhook deliveries are written
# by rdv.webhooks.events). Registered by the apps' `ready()`; core imports none of them.
ActionListener = Callable[[AuditLog, Any, dict], None]
_LISTENERS: list[ActionListener] = []


def on_action(listener: ActionListener) -> ActionListener:
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)
    return listener


def log_action(
    actor: Any,
    action: str,
    obj: Any,
    changes: dict | None = None,
    *,
    territory: Any = None,
    organisation: Any = None,
    related: dict | None = None,
    object_repr: str | None = None,
) -> AuditLog:
    """Record that `actor` did `action` on `obj`.

    `action` is a dotted code such as "invitation.created"; `changes` a dict of what changed
    (field -> [old, new] or any JSON-able detail). The espace and organisation are taken from
    `obj` unless given. `object_repr` replaces `str(obj)` in the entry (a deleted usager is not
    named in the journal). `related` reaches the listeners only (e.g. {"usager": <Usager>}, or
    {"webhook_reason": "rgpd"} for a deletion under the retention rules). Call it inside the
    transaction of the change.
    """
    found_territory, found_organisation = _resolve_tenant(obj)
    actor_obj = actor if getattr(actor, "pk", None) else None
    entry = AuditLog.objects.create(
        actor=actor_obj,
        actor_repr=(str(actor_obj) if actor_obj else (str(actor) if actor else "Système"))[:300],
        action=action,
        object_type=obj._meta.label if isinstance(obj, models.Model) else type(obj).__name__,
        object_id=str(getattr(obj, "pk", "") or ""),
        object_repr=(str(obj) if object_repr is None else object_repr)[:300],
        changes=_jsonable(changes or {}),
        territory=territory or found_territory,
        organisation=organisation or found_organisation,
    )
    for listener in _LISTENERS:
        listener(entry, obj, related or {})
    return entry


# French labels of the actions, for the journal pages.
ACTION_LABELS = {
    "organisation.created": "Organisation créée",
    "organisation.renamed": "Organisation renommée",
    "service.activated": "Service activé",
    "service.deactivated": "Service désactivé",
    "invitation.created": "Agent invité",
    "invitation.reissued": "Invitation renouvelée (nouveau lien)",
    "invitation.resent": "Invitation renvoyée (nouveau lien)",
    "invitation.cancelled": "Invitation annulée",
    "invitation.accepted": "Invitation acceptée",
    "agent.updated": "Affectations de l'agent modifiées",
    "agent.intervenant_added": "Intervenant ajouté (sans connexion)",
    "agent.removed_from_territory": "Agent retiré de l'espace",
    "territory.created": "Espace créé",
    "motif.created": "Motif créé",
    "motif.configuration_updated": "Motif modifié (configuration)",
    "motif.online_booking_updated": "Motif modifié (réservation en ligne)",
    "motif.instructions_updated": "Motif modifié (notifications et instructions)",
    "motif.duplicated": "Motif dupliqué",
    "motif.archived": "Motif archivé",
    "motif.restored": "Motif restauré",
    "territory.usager_fields_updated": "Champs de la fiche usager modifiés",
    "territory.usager_visibility_updated": "Visibilité des usagers modifiée",
    "territory.rdv_fields_updated": "Champs de la fiche RDV modifiés",
    "territory.holiday_zone_updated": "Jours fériés de l'espace modifiés",
    "territory.waiting_room_updated": "Salle d'attente : mode de notification modifié",
    "territory.online_booking_updated": "Réservation en ligne : paramètres modifiés",
    "territory.reminders_updated": "Rappels aux usagers modifiés",
    "territory.sms_settings_updated": "SMS : budget, seuil d'alerte ou fournisseurs modifiés",
    "sector_codes.added": "Sectorisation : codes ajoutés",
    "sector_codes.deleted": "Sectorisation : code supprimé",
    "custom_field.created": "Champ personnalisé créé",
    "custom_field.updated": "Champ personnalisé modifié",
    "custom_field.archived": "Champ personnalisé archivé",
    "custom_field.restored": "Champ personnalisé restauré",
    "custom_field.moved": "Champ personnalisé déplacé",
    "usager.created": "Fiche usager créée",
    "usager.updated": "Fiche usager modifiée",
    "usager.added_to_organisation": "Usager ajouté à une organisation",
    "usager.exported": "Données de l'usager exportées (RGPD)",
    "usager.deleted": "Usager supprimé (RGPD)",
    "usager.retention_kept": "Fiche conservée malgré l'inactivité (RGPD)",
    # Agendas
    "lieu.created": "Lieu créé",
    "lieu.updated": "Lieu modifié",
    "lieu.archived": "Lieu archivé",
    "lieu.restored": "Lieu restauré",
    "plage.created": "Plage d'ouverture créée",
    "plage.updated": "Plage d'ouverture modifiée (toute la série)",
    "plage.split": "Plage d'ouverture modifiée à partir d'une occurrence (série scindée)",
    "plage.ended": "Plage d'ouverture terminée",
    "plage.deleted": "Plage d'ouverture supprimée",
    "plage.occurrence_cancelled": "Occurrence de plage annulée",
    "plage.occurrence_moved": "Horaires d'une occurrence de plage modifiés",
    "plage.occurrence_restored": "Occurrence de plage rétablie",
    "absence.created": "Absence créée",
    "absence.updated": "Absence modifiée",
    "absence.deleted": "Absence supprimée",
    # RDVs
    "rdv.created": "Rendez-vous pris",
    "rdv.updated": "Rendez-vous modifié (informations)",
    "rdv.moved": "Rendez-vous déplacé",
    "rdv.cancelled": "Rendez-vous annulé",
    "rdv.status_changed": "Statut du rendez-vous modifié",
    "rdv.participant_added": "Participant ajouté au rendez-vous",
    "rdv.participant_removed": "Participant retiré du rendez-vous",
    "rdv.arrived": "Usager arrivé en salle d'attente",
    "rdv.arrival_undone": "Arrivée en salle d'attente annulée",
    "rdv.manage_link_revoked": "Lien de gestion révoqué",
    "rdv.deleted": "Rendez-vous supprimé (RGPD)",
    "rdv.participant_deleted": "Participant supprimé du rendez-vous (RGPD)",
    # Data retention (RGPD): one entry per espace and nightly job, with its counts
    "retention.rdvs_purged": "Conservation des données : anciens rendez-vous supprimés",
    "retention.usagers_reviewed": "Conservation des données : usagers inactifs examinés",
    "retention.audit_purged": "Conservation des données : anciennes entrées du journal supprimées",
    # Outbox
    "delivery.retried": "Message en échec renvoyé",
    # Webhooks
    "webhook.created": "Webhook créé",
    "webhook.updated": "Webhook modifié",
    "webhook.deleted": "Webhook supprimé",
    "webhook.secret_rotated": "Clé secrète du webhook renouvelée",
    "webhook.grace_ended": "Ancienne clé secrète du webhook retirée",
    "webhook.test_sent": "Événement de test envoyé",
    "webhook.backfill_started": "Envoi des enregistrements existants lancé",
    "webhook.replayed": "Événements webhook renvoyés",
    # Notifications (an agent's own choices)
    "notification_preferences.updated": "Préférences de notification modifiées",
    "calendar_feed.created": "Lien d'agenda créé",
    "calendar_feed.revoked": "Lien d'agenda révoqué",
}

FIELD_LABELS = {
    "name": "nom",
    "email": "adresse e-mail",
    "service": "service",
    "services": "services",
    "organisations": "organisations",
    "expires_at": "expire le",
    "territory_admin": "administrateur de l'espace",
    "agent": "agent",
    "color": "couleur",
    "default_duration_minutes": "durée par défaut",
    "location_type": "type",
    "collective": "collectif",
    "max_participants": "participants au maximum",
    "follow_up": "suivi par le référent",
    "for_secretariat": "ouvert au secrétariat",
    "bookable_by": "qui peut réserver",
    "bookable_online": "ouvert aux usagers",
    "min_booking_delay_minutes": "délai minimum de réservation",
    "max_booking_delay_minutes": "délai maximum de réservation",
    "usager_can_move": "l'usager peut déplacer son rendez-vous",
    "usager_can_cancel": "l'usager peut annuler son rendez-vous",
    "visibility": "visibilité pour l'usager",
    "instructions_before": "instructions avant la réservation",
    "instructions_after": "instructions après la réservation",
    "cancellation_warning": "avertissement d'annulation",
    "source": "copie de",
    "archived_at": "archivé le",
    # Usager files and espace settings
    "first_name": "prénom",
    "last_name": "nom",
    "birth_name": "nom de naissance",
    "birth_date": "date de naissance",
    "phone": "téléphone",
    "address": "adresse",
    "postal_code": "code postal",
    "city": "commune",
    "notes": "remarques",
    "caf_number": "numéro d'allocataire CAF",
    "family_situation": "situation familiale",
    "number_of_children": "nombre d'enfants",
    "case_number": "numéro de dossier",
    "logement": "logement",
    "notify_by_email": "notifications par e-mail",
    "notify_by_sms": "notifications par SMS",
    "notification_preferences": "préférences de notification",
    "responsible": "usager responsable",
    "organisation": "organisation",
    "usagers_visible_territory_wide": "usagers visibles sur tout l'espace",
    "rdv_context_enabled": "champ Contexte des RDV",
    "waiting_room_notification": "notification de la salle d'attente",
    "label": "libellé",
    "kind": "type",
    "choices": "options",
    "required": "obligatoire",
    "help_text": "texte d'aide",
    "position": "ordre",
    "asked_online": "demandé lors de la réservation en ligne",
    "online_hold_minutes": "réservation provisoire d'un créneau (minutes)",
    "online_max_upcoming_per_contact": "rendez-vous à venir par e-mail ou téléphone et par motif",
    "online_max_bookings_per_ip_per_day": "réservations en ligne par adresse IP et par jour",
    "online_cancel_min_hours": "annulation par l'usager jusqu'à (heures avant)",
    "online_move_min_hours": "déplacement par l'usager jusqu'à (heures avant)",
    "embedding_origins": "sites autorisés à intégrer la prise de rendez-vous",
    "reminder_first_hours": "premier rappel (heures avant)",
    "reminder_second_hours": "second rappel (heures avant)",
    "sector_codes": "codes de sectorisation",
    "monthly_segment_budget": "budget SMS mensuel (segments)",
    "warning_percent": "seuil d'alerte SMS (%)",
    "provider": "fournisseur SMS",
    "fallback_provider": "fournisseur SMS de secours",
    # Agendas
    "is_open": "ouvert au public",
    "title": "titre",
    "lieu": "lieu",
    "motifs": "motifs",
    "first_date": "date de début",
    "end_date": "date de fin",
    "start_time": "heure de début",
    "end_time": "heure de fin",
    "recurrence": "répétition",
    "recurrence_interval": "intervalle de répétition",
    "recurrence_weekdays": "jours de la semaine",
    "until": "jusqu'au",
    "date": "date",
    "horaires": "horaires",
    # RDVs
    "starts_at": "début",
    "ends_at": "fin",
    "motif": "motif",
    "agents": "agents",
    "usagers": "usagers",
    "usager": "usager",
    "status": "statut",
    "reason": "motif d'annulation",
    "override": "hors disponibilité",
    "context": "contexte",
    "visio_url": "lien de visioconférence",
    # Data retention (RGPD)
    "deletion": "suppression",
    "format": "format",
    "rdvs_deleted": "rendez-vous supprimés",
    "rdvs_left": "rendez-vous collectifs quittés",
    "relatives_detached": "proches détachés",
    "retention_days": "durée de conservation (jours)",
    "usagers_flagged": "usagers signalés pour suppression",
    "usagers_unflagged": "usagers de nouveau actifs",
    "usagers_deleted": "usagers supprimés",
    "audit_entries_deleted": "entrées du journal supprimées",
    "retention_flagged_at": "signalée pour suppression le",
    # Notifications
    "rdv_level": "changements de mes rendez-vous",
    "plages_and_absences": "changements de mes plages et absences",
    "replaced": "remplace le lien précédent",
}
VALUE_LABELS = {
    "basic": "agent",
    "admin": "administrateur",
    "intervenant": "intervenant",
    None: "—",
    True: "oui",
    False: "non",
}


# Changes stored as numbers of minutes (durations, booking delays): the journal shows them in human
# units (« 90 jours → 60 jours », not « 129600 → 86400 »).
MINUTE_FIELDS = {"default_duration_minutes", "min_booking_delay_minutes", "max_booking_delay_minutes"}
MINUTES_PER_DAY = 24 * 60


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count > 1 else ''}"


def human_minutes(value: Any) -> str:
    """A number of minutes in French: « 30 minutes », « 2 heures », « 1 h 30 », « 90 jours »,
    « 1 jour et 2 h 30 ». Anything else is shown as it is."""
    if isinstance(value, bool) or not isinstance(value, int):
        return _describe_value(value)
    if value < 0:
        return str(value)
    days, rest = divmod(value, MINUTES_PER_DAY)
    hours, minutes = divmod(rest, 60)
    if hours and minutes:
        time_part = f"{hours} h {minutes:02d}"
    elif hours:
        time_part = _plural(hours, "heure")
    elif minutes or not days:
        time_part = _plural(minutes, "minute")
    else:
        time_part = ""
    if not days:
        return time_part
    return _plural(days, "jour") + (f" et {time_part}" if time_part else "")


def _describe_minutes(value: Any) -> str:
    if isinstance(value, list) and len(value) == 2:
        return f"{human_minutes(value[0])} → {human_minutes(value[1])}"
    return human_minutes(value)


def _describe_value(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} : {_describe_value(v)}" for k, v in value.items())
    if isinstance(value, list):
        if len(value) == 2 and not any(isinstance(v, list | dict) for v in value):
            return f"{_describe_value(value[0])} → {_describe_value(value[1])}"
        return ", ".join(_describe_value(v) for v in value) or "—"
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        from datetime import datetime

        from django.utils import timezone

        try:
            return timezone.localtime(datetime.fromisoformat(value)).strftime("%d/%m/%Y %H:%M")
        except ValueError:
            return value
    if isinstance(value, bool) or value is None or value in VALUE_LABELS:
        return VALUE_LABELS.get(value, str(value))
    return str(value)


def describe_changes(changes: dict) -> list[tuple[str, str]]:
    """Human (French) lines for the journal page."""
    return [
        (FIELD_LABELS.get(key, key), _describe_minutes(value) if key in MINUTE_FIELDS else _describe_value(value))
        for key, value in (changes or {}).items()
    ]


def describe_entries(entries, hidden: Iterable[str] = ()) -> list:
    """Give journal entries their French `label` and `details` for display, leaving out the
    changed fields named in `hidden` (fields the espace hides, switched-off Contexte…)."""
    hidden = set(hidden)
    entries = list(entries)
    for entry in entries:
        entry.label = ACTION_LABELS.get(entry.action, entry.action)
        entry.details = describe_changes({k: v for k, v in (entry.changes or {}).items() if k not in hidden})
    return entries
