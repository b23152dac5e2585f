"""RDV forms for agents: they parse input; the rules are checked by rdv.bookings.services."""

import datetime

from django import forms
from django.utils import timezone
from dsfr.utils import dsfr_input_class_attr

from rdv.accounts.models import Agent
from rdv.agendas.models import Lieu
from rdv.bookings.models import Rdv, RdvStatus
from rdv.bookings.services import CONTEXT_MAX_LENGTH, MAX_DURATION_MINUTES
from rdv.core.dates import DATE_MAX, DATE_MIN
from rdv.core.errors import DomainError
from rdv.core.phones import PHONE_INPUT_MAX_LENGTH
from rdv.core.text import SEARCH_MAX_LENGTH
from rdv.motifs.models import LocationType, Motif
from rdv.usagers import services as usager_services
from rdv.usagers.models import Usager
from rdv.www.forms.base import (
    ConditionallyRequired,
    DateField,
    DsfrForm,
    ModelChoiceField,
    ModelMultipleChoiceField,
    max_length,
    too_long,
)
from rdv.www.forms.usagers import custom_form_field

DATE_FORMAT = "%Y-%m-%d"


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format=DATE_FORMAT)


def _time_widget() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time", "step": 300}, format="%H:%M")


class AgentChoiceField(ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.full_name or obj.email


class MotifSelect(forms.Select):
    """A select of motifs whose options carry their location type (`data-type`), read by
    www/rdv_form.js to show the fields of that type only."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-type"] = instance.location_type
        return option


class MotifChoiceField(ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        kind = obj.get_location_type_display().lower()
        return f"{obj.name} ({kind}, {obj.default_duration_minutes} min) — {obj.service}"


def parse_start(value: str | None) -> datetime.datetime | None:
    """An ISO date-time from a link ("2026-12-07T10:00:00+01:00"; a '+' decoded as a space is
    accepted); naive values are Europe/Paris wall-clock times. None when invalid."""
    text = (value or "").strip()
    if not text or len(text) > 40:
        return None
    start = None
    for candidate in (text, text.replace(" ", "+")):
        try:
            start = datetime.datetime.fromisoformat(candidate)
            break
        except ValueError:
            continue
    if start is None or not DATE_MIN <= start.date() <= DATE_MAX:
        return None
    if timezone.is_naive(start):
        start = timezone.make_aware(start)
    return start


def combine(day: datetime.date, at: datetime.time) -> datetime.datetime:
    """A local (Europe/Paris) day and time as an aware instant."""
    return timezone.make_aware(datetime.datetime.combine(day, at))


class WhenMixin:
    """The date, start time and agents fields shared by the booking and moving forms."""

    def when_fields(self) -> None:
        self.fields["date"] = DateField(
            label="Date",
            widget=_date_widget(),
            error_messages={
                "required": "Indiquez la date du rendez-vous.",
                "invalid": "Saisissez une date valide, par exemple 07/12/2026.",
            },
        )
        self.fields["heure"] = forms.TimeField(
            label="Heure de début",
            widget=_time_widget(),
            error_messages={
                "required": "Indiquez l'heure de début.",
                "invalid": "Saisissez une heure valide, par exemple 09:30.",
            },
        )

    def starts_at(self) -> datetime.datetime:
        return combine(self.cleaned_data["date"], self.cleaned_data["heure"])


class RdvCreateForm(WhenMixin, ConditionallyRequired, DsfrForm):
    """Book a RDV: motif, time, lieu, agents, usager(s) (chosen or created inline), Contexte."""

    motif = MotifChoiceField(
        label="Motif",
        queryset=Motif.objects.none(),
        widget=MotifSelect(attrs={"data-motif-select": ""}),
        empty_label="Choisissez un motif",
        error_messages={
            "required": "Choisissez le motif du rendez-vous.",
            "invalid_choice": "Ce motif n'est pas proposé dans cette organisation.",
        },
    )
    duration_minutes = forms.IntegerField(
        label="Durée (en minutes)",
        required=False,
        min_value=1,
        max_value=MAX_DURATION_MINUTES,
        help_text="Laissez vide pour la durée par défaut du motif.",
        widget=forms.NumberInput(attrs={"min": 1, "max": MAX_DURATION_MINUTES, "step": 1}),
        error_messages={
            "invalid": "La durée doit être un nombre entier de minutes.",
            "min_value": "La durée doit être d'au moins 1 minute.",
            "max_value": "La durée ne peut pas dépasser 24 heures.",
        },
    )
    lieu = ModelChoiceField(
        label="Lieu",
        queryset=Lieu.objects.none(),
        required=False,
        empty_label="Aucun lieu (téléphone, visio, à domicile)",
        help_text="Obligatoire pour un rendez-vous sur place.",
        error_messages={"invalid_choice": "Ce lieu n'est pas proposé dans cette organisation."},
    )
    agents = AgentChoiceField(
        label="Agents",
        queryset=Agent.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choisissez au moins un agent.",
            "invalid_choice": "Cet agent ne fait pas partie de l'organisation.",
            "invalid_pk_value": "Cet agent ne fait pas partie de l'organisation.",
        },
    )
    # Rendered by hand (the list shows only the chosen usagers and the search results).
    usagers = ModelMultipleChoiceField(
        label="Usagers",
        queryset=Usager.objects.none(),
        required=False,
        error_messages={
            "invalid_choice": "Usager inconnu dans cette organisation.",
            "invalid_pk_value": "Usager inconnu dans cette organisation.",
        },
    )
    recherche_usager = forms.CharField(
        label="Rechercher un usager",
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        help_text="Nom, prénom, e-mail, téléphone ou date de naissance.",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    # The inline usager's fields. Those its file needs (names, the espace's required custom fields)
    # are required only when the agent creates an usager here (see `_require_new_usager_fields`).
    new_first_name = forms.CharField(
        label="Prénom",
        required=False,
        max_length=max_length(Usager, "first_name"),
        error_messages={"required": "Le prénom du nouvel usager est obligatoire."},
    )
    new_last_name = forms.CharField(
        label="Nom",
        required=False,
        max_length=max_length(Usager, "last_name"),
        error_messages={"required": "Le nom du nouvel usager est obligatoire."},
    )
    new_email = forms.CharField(
        label="Adresse e-mail",
        required=False,
        max_length=max_length(Usager, "email"),
        help_text="Format attendu : prenom.nom@exemple.fr",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    new_phone = forms.CharField(
        label="Téléphone",
        required=False,
        max_length=PHONE_INPUT_MAX_LENGTH,
        help_text="Par exemple 06 12 34 56 78",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    confirmer_doublon = forms.BooleanField(
        label="Créer quand même une nouvelle fiche (ce n'est aucun des usagers ci-dessus)", required=False
    )
    context = forms.CharField(
        label="Contexte",
        required=False,
        max_length=CONTEXT_MAX_LENGTH,
        help_text="Note interne, visible uniquement des agents qui voient ce rendez-vous. Jamais communiquée à "
        "l'usager.",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": too_long("Le contexte", CONTEXT_MAX_LENGTH)},
    )
    address = forms.CharField(
        label="Adresse du rendez-vous",
        required=False,
        max_length=max_length(Rdv, "address"),
        help_text="Pour un motif à domicile uniquement.",
        error_messages={"max_length": too_long("L'adresse", max_length(Rdv, "address"))},
    )
    visio_url = forms.CharField(
        label="Lien de visioconférence",
        required=False,
        max_length=max_length(Rdv, "visio_url"),
        help_text="Pour un motif en visioconférence uniquement, par exemple https://visio.exemple.fr/salle.",
        widget=forms.URLInput,
    )
    override = forms.BooleanField(
        label="Réserver quand même (hors disponibilité)",
        required=False,
        help_text="Le rendez-vous sera enregistré malgré le conflit ; c'est noté dans le journal.",
    )

    # Inline usager field -> standard usager field.
    STANDARD_NEW_FIELDS = {
        "new_first_name": "first_name",
        "new_last_name": "last_name",
        "new_email": "email",
        "new_phone": "phone",
    }

    def __init__(
        self,
        *args,
        motifs,
        lieux,
        agents,
        usagers,
        context_enabled: bool,
        territory=None,
        custom_fields=(),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.when_fields()
        self.order_fields(["motif", "date", "heure", "duration_minutes", "lieu", "agents"])
        self.fields["motif"].queryset = motifs
        self.fields["lieu"].queryset = lieux
        self.fields["agents"].queryset = agents
        self.fields["usagers"].queryset = usagers
        if not context_enabled:
            del self.fields["context"]
        # The inline usager: the standard fields the espace shows, then the custom fields its new
        # files must fill in (an agent at the counter completes the file in one go).
        if territory is not None:
            for name in ("new_email", "new_phone"):
                if not usager_services.field_visible(territory, self.STANDARD_NEW_FIELDS[name]):
                    del self.fields[name]
        self.new_custom_fields = list(custom_fields)
        for field in self.new_custom_fields:
            name = self.new_field_name(field)
            self.fields[name] = custom_form_field(field)
            dsfr_input_class_attr(self[name])  # fields added after the base form's __init__
        self._require_new_usager_fields()
        self.show_override = False

    @staticmethod
    def new_field_name(field) -> str:
        return f"new_{field.key}"

    @property
    def new_usager_field_names(self) -> list[str]:
        names = [name for name in self.STANDARD_NEW_FIELDS if name in self.fields]
        return names + [self.new_field_name(field) for field in self.new_custom_fields]

    def new_usager_fields(self) -> list:
        """The bound fields of the inline usager, in display order."""
        return [self[name] for name in self.new_usager_field_names]

    def _typed_new_usager(self) -> bool:
        """Whether the agent typed something in the inline usager's fields (raw data)."""
        return any(str(self.data.get(self.add_prefix(name), "")).strip() for name in self.new_usager_field_names)

    def _require_new_usager_fields(self) -> None:
        """The names and the required custom fields are shown as required (not « Optionnel »), without
        the HTML `required` attribute: choosing an existing usager leaves them empty. They are
        checked only when an usager is created here (ConditionallyRequired)."""
        self.show_as_required(
            ["new_first_name", "new_last_name"]
            + [self.new_field_name(field) for field in self.new_custom_fields if field.required]
        )

    def required_now(self) -> bool:
        return self._typed_new_usager()

    @property
    def creates_usager(self) -> bool:
        return self._typed_new_usager()

    def new_usager_data(self) -> dict:
        data = self.cleaned_data
        return {standard: data[name] for name, standard in self.STANDARD_NEW_FIELDS.items() if name in self.fields}

    def new_usager_custom_values(self) -> dict:
        return {field: self.cleaned_data.get(self.new_field_name(field)) for field in self.new_custom_fields}

    def clean(self):
        cleaned = super().clean()
        creating = self._typed_new_usager()
        if creating:  # the custom fields' rules are the usager service's (as on the usager form)
            for field in self.new_custom_fields:
                name = self.new_field_name(field)
                if name in cleaned:  # else already refused by the form field
                    try:
                        usager_services.clean_custom_value(field, cleaned[name])
                    except DomainError as error:
                        self.add_error(name, error.message)
        motif = cleaned.get("motif")
        chosen = list(cleaned.get("usagers") or [])
        new = 1 if creating else 0
        if motif is not None and not motif.collective and len(chosen) + new != 1:
            message = (
                "Choisissez un usager : cochez un usager trouvé par la recherche, ou créez-en un nouveau."
                if not chosen and not new
                else "Un rendez-vous individuel n'a qu'un usager : gardez un seul usager coché, ou videz les "
                "champs du nouvel usager."
            )
            self.add_error("usagers", message)
        return cleaned


class RdvMoveForm(WhenMixin, DsfrForm):
    lieu = ModelChoiceField(
        label="Lieu",
        queryset=Lieu.objects.none(),
        required=False,
        empty_label="Aucun lieu",
        error_messages={"invalid_choice": "Ce lieu n'est pas proposé dans cette organisation."},
    )
    agents = AgentChoiceField(
        label="Agents",
        queryset=Agent.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choisissez au moins un agent.",
            "invalid_choice": "Cet agent ne fait pas partie de l'organisation.",
            "invalid_pk_value": "Cet agent ne fait pas partie de l'organisation.",
        },
    )
    override = forms.BooleanField(
        label="Déplacer quand même (hors disponibilité)",
        required=False,
        help_text="Le rendez-vous sera déplacé malgré le conflit ; c'est noté dans le journal.",
    )

    def __init__(self, *args, lieux, agents, **kwargs):
        super().__init__(*args, **kwargs)
        self.when_fields()
        self.order_fields(["date", "heure", "lieu", "agents", "override"])
        self.fields["lieu"].queryset = lieux
        self.fields["agents"].queryset = agents
        self.show_override = False


class RdvEditForm(DsfrForm):
    """The RDV's free texts: the Contexte (when the espace enables it), the address of a motif « à
    domicile », the link of a visio motif (or a value the RDV already has, so it can be cleared)."""

    context = RdvCreateForm.base_fields["context"]
    address = RdvCreateForm.base_fields["address"]
    visio_url = RdvCreateForm.base_fields["visio_url"]

    def __init__(self, *args, context_enabled: bool, rdv=None, **kwargs):
        super().__init__(*args, **kwargs)
        if not context_enabled:
            del self.fields["context"]
        if rdv is not None:
            kind = rdv.motif.location_type
            if kind != LocationType.HOME and not rdv.address:
                del self.fields["address"]
            if kind != LocationType.VISIO and not rdv.visio_url:
                del self.fields["visio_url"]


class CancelForm(DsfrForm):
    by = forms.ChoiceField(
        label="Qui annule ?",
        choices=[("service", "Annulé par le service"), ("usager", "Annulé à la demande de l'usager")],
        initial="service",
        widget=forms.RadioSelect,
        error_messages={"required": "Indiquez qui annule.", "invalid_choice": "Indiquez qui annule."},
    )
    reason = forms.CharField(
        label="Motif de l'annulation",
        required=False,
        max_length=max_length(Rdv, "cancel_reason"),
        help_text=f"Facultatif, {max_length(Rdv, 'cancel_reason')} caractères au plus.",
        error_messages={"max_length": too_long("Le motif d'annulation", max_length(Rdv, "cancel_reason"))},
    )


class StatusForm(DsfrForm):
    status = forms.ChoiceField(
        label="Nouveau statut",
        choices=[
            (RdvStatus.UNKNOWN, "À venir"),
            (RdvStatus.SEEN, "Vu (l'usager est venu)"),
            (RdvStatus.NOSHOW, "Absent (l'usager n'est pas venu)"),
            (RdvStatus.EXCUSED, "Annulé par l'usager"),
            (RdvStatus.REVOKED, "Annulé par le service"),
        ],
        error_messages={"required": "Choisissez un statut.", "invalid_choice": "Statut inconnu."},
    )


class ParticipantForm(DsfrForm):
    usager = ModelChoiceField(
        label="Usager",
        queryset=Usager.objects.none(),
        error_messages={
            "required": "Choisissez un usager.",
            "invalid_choice": "Usager inconnu dans cette organisation.",
        },
    )

    def __init__(self, *args, usagers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["usager"].queryset = usagers


class RdvFilterForm(DsfrForm):
    """Filters of the RDV list (GET)."""

    du = DateField(
        label="Du", required=False, widget=_date_widget(), error_messages={"invalid": "Date de début invalide."}
    )
    au = DateField(
        label="Au", required=False, widget=_date_widget(), error_messages={"invalid": "Date de fin invalide."}
    )
    agent = ModelChoiceField(
        label="Agent",
        required=False,
        queryset=Agent.objects.none(),
        empty_label="Tous les agents",
        error_messages={"invalid_choice": "Cet agent ne fait pas partie de l'organisation."},
    )
    motif = MotifChoiceField(
        label="Motif",
        required=False,
        queryset=Motif.objects.none(),
        empty_label="Tous les motifs",
        error_messages={"invalid_choice": "Ce motif n'est pas proposé dans cette organisation."},
    )
    statut = forms.ChoiceField(
        label="Statut",
        required=False,
        choices=[("", "Tous les statuts"), *RdvStatus.choices],
        error_messages={"invalid_choice": "Statut inconnu."},
    )
    lieu = ModelChoiceField(
        label="Lieu",
        required=False,
        queryset=Lieu.objects.none(),
        empty_label="Tous les lieux",
        error_messages={"invalid_choice": "Ce lieu n'est pas proposé dans cette organisation."},
    )
    usager = forms.CharField(
        label="Usager (nom, e-mail, téléphone)",
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        widget=forms.TextInput(attrs={"type": "search"}),
    )

    def __init__(self, *args, agents, motifs, lieux, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = agents
        self.fields["motif"].queryset = motifs
        self.fields["lieu"].queryset = lieux
        self.fields["agent"].label_from_instance = lambda obj: obj.full_name or obj.email

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("du"), cleaned.get("au")
        if start and end and end < start:
            self.add_error("au", "La date de fin doit être postérieure ou égale à la date de début.")
        return cleaned
