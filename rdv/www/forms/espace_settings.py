"""Forms of the espace settings pages (Paramètres)."""

from django import forms

from rdv.sms import providers as sms_providers
from rdv.sms import services as sms_services
from rdv.territories.models import (
    RDV_OPTIONAL_FIELDS,
    USAGER_OPTIONAL_FIELDS,
    HolidayZone,
    Territory,
    WaitingRoomNotification,
)
from rdv.territories.origins import MAX_ORIGINS, parse_origins
from rdv.territories.sectors import limit_errors
from rdv.territories.services import ONLINE_BOOKING_BOUNDS
from rdv.usagers import services as usager_services
from rdv.usagers.models import CustomField, CustomFieldKind
from rdv.www.forms.base import DsfrForm, max_length, too_long


class UsagerFieldsForm(DsfrForm):
    """One switch per optional standard field of the usager file: on = shown."""

    def __init__(self, territory: Territory, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in USAGER_OPTIONAL_FIELDS.items():
            self.fields[f"show_{name}"] = forms.BooleanField(
                label=label, required=False, initial=territory.usager_field_visible(name)
            )

    def hidden_fields_names(self) -> list[str]:
        return [name for name in USAGER_OPTIONAL_FIELDS if not self.cleaned_data.get(f"show_{name}")]


class UsagerVisibilityForm(DsfrForm):
    visible_territory_wide = forms.BooleanField(
        label="Usagers visibles sur tout l'espace",
        required=False,
        help_text="Les agents peuvent rechercher les usagers des autres organisations de l'espace et les ajouter "
        "à leur organisation. Désactivé : chaque organisation ne voit que ses propres usagers.",
    )


class RdvFieldsForm(DsfrForm):
    """One switch per optional RDV field."""

    HELP = {
        "context": "Notes internes saisies par les agents lors de la prise de rendez-vous, visibles uniquement par "
        "les agents ayant accès au rendez-vous, jamais par l'usager. Désactivé, le champ est masqué partout ; "
        "le texte déjà saisi est conservé et réapparaît à la réactivation.",
    }

    def __init__(self, territory: Territory, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, (_, label) in RDV_OPTIONAL_FIELDS.items():
            self.fields[f"enable_{name}"] = forms.BooleanField(
                label=label,
                required=False,
                initial=territory.rdv_field_enabled(name),
                help_text=self.HELP.get(name, ""),
            )

    def enabled(self) -> dict[str, bool]:
        return {name: bool(self.cleaned_data.get(f"enable_{name}")) for name in RDV_OPTIONAL_FIELDS}


class WaitingRoomForm(DsfrForm):
    waiting_room_notification = forms.ChoiceField(
        label="Quand un usager est signalé en salle d'attente, l'agent est prévenu par :",
        choices=WaitingRoomNotification.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choisissez un mode de notification.",
            "invalid_choice": "Choisissez un mode de notification proposé.",
        },
    )


class RemindersForm(DsfrForm):
    reminder_first_hours = forms.IntegerField(
        label="Premier rappel : combien d'heures avant le rendez-vous",
        min_value=1,
        max_value=14 * 24,
        help_text="48 heures par défaut. Pas de rappel pour un rendez-vous pris moins longtemps à l'avance.",
        error_messages={
            "required": "Indiquez quand envoyer le premier rappel.",
            "invalid": "Saisissez un nombre entier d'heures.",
            "min_value": "Le premier rappel doit être envoyé au moins 1 heure avant.",
            "max_value": "Le premier rappel doit être envoyé au plus 336 heures (14 jours) avant.",
        },
    )
    reminder_second_hours = forms.IntegerField(
        label="Second rappel : combien d'heures avant le rendez-vous",
        required=False,
        min_value=1,
        max_value=14 * 24,
        help_text="Laissez vide pour un seul rappel. Par exemple 2 pour un rappel le jour même.",
        error_messages={
            "invalid": "Saisissez un nombre entier d'heures.",
            "min_value": "Le second rappel doit être envoyé au moins 1 heure avant.",
            "max_value": "Le second rappel doit être envoyé au plus 336 heures (14 jours) avant.",
        },
    )


class HolidayZoneForm(DsfrForm):
    holiday_zone = forms.ChoiceField(
        label="Jours fériés appliqués aux agendas de l'espace",
        choices=HolidayZone.choices,
        required=False,
        widget=forms.RadioSelect,
        help_text="Un jour férié ferme toute la journée dans les agendas : aucun créneau n'est proposé.",
        error_messages={"invalid_choice": "Choisissez une zone proposée."},
    )


def _bounded_field(name: str, label: str, help_text: str) -> forms.IntegerField:
    bound = ONLINE_BOOKING_BOUNDS[name]
    message = bound.message()
    return forms.IntegerField(
        label=label,
        min_value=bound.minimum,
        max_value=bound.maximum,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": message,
            "invalid": message,
            "min_value": message,
            "max_value": message,
            "step_size": message,
        },
    )


EMBEDDING_TEXT_MAX_LENGTH = 20_000


class OnlineBookingForm(DsfrForm):
    """The espace's online booking rules and the sites allowed to embed the public pages."""

    online_hold_minutes = _bounded_field(
        "online_hold_minutes",
        "Durée de réservation provisoire d'un créneau (minutes)",
        "Le créneau choisi par un usager est mis de côté pendant ce temps, le temps qu'il confirme "
        "(entre 2 et 60 minutes).",
    )
    online_max_upcoming_per_contact = _bounded_field(
        "online_max_upcoming_per_contact",
        "Rendez-vous à venir par e-mail ou téléphone et par motif",
        "Au-delà, une même adresse e-mail ou un même numéro ne peut plus réserver ce motif en ligne (entre 1 et 50).",
    )
    online_max_bookings_per_ip_per_day = _bounded_field(
        "online_max_bookings_per_ip_per_day",
        "Réservations en ligne par adresse IP et par jour",
        "Limite les réservations en masse par un robot (entre 1 et 1000). Une structure d'accueil "
        "partagée (médiathèque, France services) peut avoir besoin d'une valeur plus haute.",
    )
    online_cancel_min_hours = _bounded_field(
        "online_cancel_min_hours",
        "Annulation par l'usager jusqu'à (heures avant le rendez-vous)",
        "Entre 0 et 168 heures (une semaine).",
    )
    online_move_min_hours = _bounded_field(
        "online_move_min_hours",
        "Déplacement par l'usager jusqu'à (heures avant le rendez-vous)",
        "Entre 0 et 720 heures (30 jours).",
    )
    embedding_origins = forms.CharField(
        label="Sites autorisés à intégrer la prise de rendez-vous",
        required=False,
        max_length=EMBEDDING_TEXT_MAX_LENGTH,
        error_messages={"max_length": f"Indiquez au plus {MAX_ORIGINS} sites, un par ligne."},
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocapitalize": "off"}),
        help_text=f"Un site par ligne, sous la forme https://www.exemple.fr (sans chemin), au plus "
        f"{MAX_ORIGINS}. Ces sites peuvent afficher les pages de prise de rendez-vous de l'espace dans "
        "un cadre (iframe) ; tous les autres en sont empêchés. Laissez vide pour n'en autoriser aucun.",
    )

    def __init__(self, territory: Territory, *args, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                **{name: getattr(territory, name) for name in ONLINE_BOOKING_BOUNDS},
                "embedding_origins": territory.embedding_origins,
            },
        )
        super().__init__(*args, **kwargs)

    def clean_embedding_origins(self) -> str:
        origins, errors = parse_origins(self.cleaned_data.get("embedding_origins") or "")
        if errors:
            raise forms.ValidationError(limit_errors(errors))
        return "\n".join(origins)

    def service_kwargs(self) -> dict:
        return {name: self.cleaned_data[name] for name in [*ONLINE_BOOKING_BOUNDS, "embedding_origins"]}


class CustomFieldForm(DsfrForm):
    label = forms.CharField(
        label="Libellé",
        max_length=max_length(CustomField, "label"),
        help_text="Tel qu'il apparaît sur la fiche usager, par exemple « Quartier ».",
        error_messages={
            "required": "Le libellé est obligatoire.",
            "max_length": too_long("Le libellé", max_length(CustomField, "label")),
        },
    )
    kind = forms.ChoiceField(
        label="Type",
        choices=[("", "Choisir un type"), *CustomFieldKind.choices],
        error_messages={
            "required": "Choisissez le type du champ.",
            "invalid_choice": "Choisissez un type de champ proposé.",
        },
    )
    choices = forms.CharField(
        label="Options de la liste",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Pour une liste de choix uniquement (laissez vide pour les autres types) : une option par ligne.",
    )
    required = forms.BooleanField(label="Champ obligatoire", required=False)
    asked_online = forms.BooleanField(
        label="Demandé lors de la réservation en ligne",
        required=False,
        help_text="Le champ est proposé à l'usager (ou au prescripteur) qui réserve en ligne ; s'il est "
        "obligatoire, la réservation en ligne l'exige.",
    )
    help_text = forms.CharField(
        label="Texte d'aide",
        required=False,
        max_length=max_length(CustomField, "help_text"),
        help_text="Affiché sous le libellé dans le formulaire.",
        error_messages={"max_length": too_long("Le texte d'aide", max_length(CustomField, "help_text"))},
    )

    def __init__(self, *args, field: CustomField | None = None, **kwargs):
        if field is not None:
            kwargs.setdefault(
                "initial",
                {
                    "label": field.label,
                    "kind": field.kind,
                    "choices": "\n".join(field.choices),
                    "required": field.required,
                    "asked_online": field.asked_online,
                    "help_text": field.help_text,
                },
            )
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind and kind != CustomFieldKind.CHOICE and self.options():  # the service's rule, on the field
            self.add_error("choices", usager_services.options_not_allowed(kind))
        return data

    def options(self) -> list[str]:
        return [line.strip() for line in (self.cleaned_data.get("choices") or "").splitlines() if line.strip()]

    def service_kwargs(self) -> dict:
        return {
            "label": self.cleaned_data["label"],
            "kind": self.cleaned_data["kind"],
            "choices": self.options(),
            "required": self.cleaned_data["required"],
            "help_text": self.cleaned_data["help_text"],
            "asked_online": self.cleaned_data["asked_online"],
        }


class SmsSettingsForm(DsfrForm):
    """The espace's SMS budget, warning threshold and providers (names from SMS_PROVIDERS)."""

    BUDGET_MESSAGE = sms_services.budget_message()
    PERCENT_MESSAGE = "Le seuil d'alerte : saisissez un pourcentage entier entre 1 et 100."

    monthly_segment_budget = forms.IntegerField(
        label="Budget mensuel (segments SMS)",
        min_value=0,
        max_value=sms_services.BUDGET_MAX,
        help_text="Un SMS de 160 caractères au plus compte pour un segment, un SMS plus long pour deux ou plus. "
        "Une fois le budget du mois atteint, les SMS ne sont plus envoyés (les e-mails continuent). "
        "0 : pas de budget.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages=dict.fromkeys(("required", "invalid", "min_value", "max_value", "step_size"), BUDGET_MESSAGE),
    )
    warning_percent = forms.IntegerField(
        label="Seuil d'alerte (% du budget)",
        min_value=1,
        max_value=100,
        help_text="Les administrateurs de l'espace reçoivent un e-mail, une fois par mois, quand ce pourcentage "
        "du budget est atteint (entre 1 et 100).",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages=dict.fromkeys(("required", "invalid", "min_value", "max_value", "step_size"), PERCENT_MESSAGE),
    )
    provider = forms.ChoiceField(
        label="Fournisseur",
        required=False,
        error_messages={"invalid_choice": "Choisissez un fournisseur proposé."},
    )
    fallback_provider = forms.ChoiceField(
        label="Fournisseur de secours",
        required=False,
        help_text="Utilisé aussitôt quand le fournisseur principal est en panne ou refuse l'envoi pour une "
        "raison qui tient au compte (crédit épuisé, clé refusée).",
        error_messages={"invalid_choice": "Choisissez un fournisseur de secours proposé."},
    )

    def __init__(self, config, *args, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "monthly_segment_budget": config.monthly_segment_budget,
                "warning_percent": config.warning_percent,
                "provider": config.provider,
                "fallback_provider": config.fallback_provider,
            },
        )
        super().__init__(*args, **kwargs)
        names = [(name, sms_providers.provider_label(name)) for name in sms_providers.provider_names()]
        default = sms_providers.default_provider_name()
        self.fields["provider"].choices = [
            ("", f"Celui de la plateforme ({sms_providers.provider_label(default)})"),
            *names,
        ]
        self.fields["fallback_provider"].choices = [("", "Aucun"), *names]

    def clean(self):
        data = super().clean()
        fallback = data.get("fallback_provider")
        if fallback and fallback == (data.get("provider") or sms_providers.default_provider_name()):
            self.add_error(
                "fallback_provider", "Le fournisseur de secours doit être différent du fournisseur principal."
            )
        return data

    def service_kwargs(self) -> dict:
        return {
            name: self.cleaned_data[name]
            for name in ("monthly_segment_budget", "warning_percent", "provider", "fallback_provider")
        }
