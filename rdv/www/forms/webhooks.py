"""Webhook forms of the espace administration: they parse input; the rules (URL, triggers, secret,
duplicates, rights) are checked by rdv.webhooks.services, whose DomainError the views attach here."""

from django import forms
from django.conf import settings

from rdv.outbox.models import Status
from rdv.territories import selectors as territory_selectors
from rdv.territories.models import Organisation
from rdv.webhooks.models import DEFAULT_SUBSCRIPTIONS, SUBSCRIPTIONS, USAGER_FIELDS, WebhookEndpoint
from rdv.webhooks.services import SECRET_MAX_LENGTH, SECRET_MIN_LENGTH
from rdv.www.forms.agendas import DATE_FORMAT, DATE_INVALID, InlineCheckboxSelectMultiple
from rdv.www.forms.base import DateField, DsfrForm, ModelChoiceField, max_length, too_long

SUBSCRIPTION_CHOICES = [(name, label) for name, (_, label) in SUBSCRIPTIONS.items()]
USAGER_FIELD_CHOICES = list(USAGER_FIELDS.items())
GRACE_HOURS_MAX = 24 * 30

# The delivery log's status filter: value in the URL → (label, delivery statuses).
STATUS_FILTERS = {
    "envoye": ("Envoyé", (Status.SENT,)),
    "en-echec": ("En échec (nouvel essai prévu)", (Status.FAILING,)),
    "abandonne": ("Abandonné", (Status.ABANDONED,)),
    "annule": ("Annulé", (Status.CANCELLED,)),
    "a-envoyer": ("À envoyer ou en cours", (Status.PENDING, Status.SENDING)),
}
# One record of each model, as the delivery log names it (« Lieu n° 12 »).
MODEL_LABELS = {
    "Rdv": "Rendez-vous",
    "Absence": "Absence",
    "PlageOuverture": "Plage d'ouverture",
    "User": "Usager",
    "Organisation": "Organisation",
    "Motif": "Motif",
    "Lieu": "Lieu",
    "Agent": "Agent",
    "AgentRole": "Droits d'un agent",
    "Test": "Événement de test",
}
EVENT_LABELS = {"created": "Création", "updated": "Modification", "destroyed": "Suppression", "test": "Test"}


def _date_field(label: str, required: bool, required_message: str = "") -> forms.DateField:
    return DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs={"type": "date"}, format=DATE_FORMAT),
        error_messages={"required": required_message or f"Indiquez la date « {label} ».", "invalid": DATE_INVALID},
    )


def _secret_field(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=True,
        max_length=SECRET_MAX_LENGTH,
        help_text=help_text,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"max_length": too_long("La clé secrète", SECRET_MAX_LENGTH)},
    )


class EndpointForm(DsfrForm):
    """A webhook: new (`creating`: organisation and secret too) or changed."""

    organisation = ModelChoiceField(
        label="Organisation",
        queryset=Organisation.objects.none(),
        help_text="Les événements de cette organisation sont envoyés à l'URL.",
        error_messages={
            "required": "Choisissez l'organisation.",
            "invalid_choice": "Cette organisation ne fait pas partie de l'espace.",
        },
    )
    target_url = forms.CharField(
        label="URL de destination",
        max_length=max_length(WebhookEndpoint, "target_url"),
        help_text="L'adresse du système d'information qui reçoit les événements, par exemple "
        "https://si.exemple.fr/webhooks/rdv",
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={
            "required": "L'URL de destination est obligatoire.",
            "max_length": too_long("L'URL de destination", max_length(WebhookEndpoint, "target_url")),
        },
    )
    secret = _secret_field(
        "Clé secrète",
        f"Laissez vide pour qu'une clé soit générée (recommandé). Sinon, de {SECRET_MIN_LENGTH} à "
        f"{SECRET_MAX_LENGTH} caractères, sans espace. Elle sert à signer chaque envoi ; elle ne sera "
        "affichée en entier qu'une fois.",
    )
    subscriptions = forms.MultipleChoiceField(
        label="Éléments déclencheurs",
        choices=SUBSCRIPTION_CHOICES,
        widget=InlineCheckboxSelectMultiple,
        help_text="Un événement est envoyé à chaque création, modification ou suppression de ces éléments.",
        error_messages={
            "required": "Choisissez au moins un élément déclencheur.",
            "invalid_choice": "Élément déclencheur inconnu : %(value)s.",
        },
    )
    usager_fields = forms.MultipleChoiceField(
        label="Données des usagers envoyées",
        choices=USAGER_FIELD_CHOICES,
        required=False,
        widget=InlineCheckboxSelectMultiple,
        help_text="N'envoyez que ce dont le système d'information a besoin. Aucune case cochée : toutes ces "
        "données sont envoyées. L'identifiant de l'usager est toujours envoyé.",
        error_messages={"invalid_choice": "Donnée d'usager inconnue : %(value)s."},
    )
    active = forms.BooleanField(
        label="Actif", required=False, help_text="Un webhook inactif ne reçoit aucun événement."
    )
    backfill = forms.BooleanField(
        label="Envoyer aussi les enregistrements existants",
        required=False,
        help_text="Un événement « created » pour chaque élément déjà enregistré de l'organisation (parmi les "
        "éléments déclencheurs), envoyés progressivement.",
    )

    def __init__(self, ctx, *args, creating: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if creating:
            self.fields["organisation"].queryset = territory_selectors.organisation_choices(ctx)
            self.fields["subscriptions"].initial = list(DEFAULT_SUBSCRIPTIONS)
            self.fields["active"].initial = True
        else:
            del self.fields["organisation"]
            del self.fields["secret"]
            self._bound_fields_cache.pop("organisation", None)
            self._bound_fields_cache.pop("secret", None)


class RotateSecretForm(DsfrForm):
    secret = _secret_field(
        "Nouvelle clé secrète",
        f"Laissez vide pour qu'une clé soit générée (recommandé). Sinon, de {SECRET_MIN_LENGTH} à "
        f"{SECRET_MAX_LENGTH} caractères, sans espace.",
    )
    grace_hours = forms.IntegerField(
        label="Période de transition (en heures)",
        min_value=0,
        max_value=GRACE_HOURS_MAX,
        help_text="Pendant cette période, les envois sont signés avec les deux clés, le temps que le système "
        "d'information passe à la nouvelle. 0 : l'ancienne clé ne signe plus rien dès maintenant.",
        widget=forms.NumberInput(attrs={"min": 0, "max": GRACE_HOURS_MAX, "step": 1, "inputmode": "numeric"}),
        error_messages={
            "required": "Indiquez la durée de la période de transition, en heures.",
            "invalid": "Indiquez un nombre entier d'heures.",
            "min_value": f"La période de transition doit durer de 0 à {GRACE_HOURS_MAX} heures.",
            "max_value": f"La période de transition doit durer de 0 à {GRACE_HOURS_MAX} heures.",
        },
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"grace_hours": settings.WEBHOOK_SECRET_GRACE_HOURS})
        super().__init__(*args, **kwargs)


class EventFilterForm(DsfrForm):
    """The delivery log's filters (GET): status, model, period (days in the espace's time zone)."""

    statut = forms.ChoiceField(
        label="Statut",
        required=False,
        choices=[("", "Tous")] + [(value, label) for value, (label, _) in STATUS_FILTERS.items()],
        error_messages={"invalid_choice": "Statut inconnu : choisissez-en un dans la liste."},
    )
    modele = forms.ChoiceField(
        label="Élément",
        required=False,
        choices=[("", "Tous")] + [(model, label) for model, label in MODEL_LABELS.items()],
        error_messages={"invalid_choice": "Élément inconnu : choisissez-en un dans la liste."},
    )
    du = _date_field("Du", required=False)
    au = _date_field("Au", required=False)

    def clean(self):
        data = super().clean()
        if data.get("du") and data.get("au") and data["au"] < data["du"]:
            self.add_error("au", "La date de fin doit suivre la date de début.")
        return data


class ReplayFailedForm(DsfrForm):
    du = _date_field("Du", required=True, required_message="Indiquez le début de la période.")
    au = _date_field("Au", required=True, required_message="Indiquez la fin de la période.")

    def clean(self):
        data = super().clean()
        if data.get("du") and data.get("au") and data["au"] < data["du"]:
            self.add_error("au", "La date de fin doit suivre la date de début.")
        return data
