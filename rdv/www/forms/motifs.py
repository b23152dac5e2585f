"""Motif forms: they parse input; the rules are checked by rdv.motifs.services."""

from django import forms

from rdv.motifs import selectors as motif_selectors
from rdv.motifs import services as motif_services
from rdv.motifs.models import (
    INSTRUCTIONS_MAX_LENGTH,
    MAX_DURATION_MINUTES,
    BookableBy,
    LocationType,
    Motif,
    Visibility,
)
from rdv.motifs.sanitize import rich_text_for_editing
from rdv.territories import selectors as territory_selectors
from rdv.territories.models import Organisation, Service
from rdv.www.forms.base import (
    DsfrForm,
    ModelChoiceField,
    ModelMultipleChoiceField,
    max_length,
    set_help_text,
    too_long,
)

BATCH_FIELD = "apply_to_batch"
LOCKED_HELP = (
    "Des rendez-vous existent déjà pour ce motif : {} ne peut plus changer, car ces rendez-vous ont été pris "
    "selon ces modalités. Dupliquez le motif pour proposer une autre modalité."
)


class BatchMixin:
    """Optionally apply a tab to the motifs created together with the edited one."""

    def add_batch_field(self, siblings) -> None:
        self.siblings = list(siblings)
        if self.siblings:
            # Plain text: the form's bound fields escape help texts (rdv.www.forms.base.BoundField).
            names = ", ".join(f"{m.organisation.name} ({m.name})" for m in self.siblings)
            self.fields[BATCH_FIELD] = forms.BooleanField(
                label="Appliquer aussi aux motifs créés ensemble",
                help_text=f"Mêmes valeurs pour : {names}.",
                required=False,
            )

    def chosen_siblings(self) -> list:
        return self.siblings if self.cleaned_data.get(BATCH_FIELD) else []


class MotifConfigurationForm(BatchMixin, DsfrForm):
    name = forms.CharField(
        label="Nom du motif",
        max_length=max_length(Motif, "name"),
        error_messages={
            "required": "Le nom du motif est obligatoire.",
            "max_length": too_long("Le nom", max_length(Motif, "name")),
        },
    )
    color = forms.CharField(
        label="Couleur",
        help_text="Affichée dans les agendas.",
        max_length=max_length(Motif, "color"),
        initial="#000091",
        widget=forms.TextInput(attrs={"type": "color", "style": "height: 2.5rem; padding: 0.25rem 0.5rem"}),
        error_messages={"required": "La couleur est obligatoire."},
    )
    default_duration_minutes = forms.IntegerField(
        label="Durée par défaut (en minutes)",
        help_text=f"Entre 1 et {MAX_DURATION_MINUTES} minutes (une journée).",
        initial=30,
        widget=forms.NumberInput(attrs={"min": 1, "max": MAX_DURATION_MINUTES, "step": 1}),
        error_messages={
            "required": "Indiquez la durée par défaut, en minutes.",
            "invalid": "La durée par défaut doit être un nombre entier de minutes.",
        },
    )
    location_type = forms.ChoiceField(
        label="Type de rendez-vous",
        choices=LocationType.choices,
        initial=LocationType.PUBLIC_OFFICE,
        help_text="Un seul type par motif : pour en proposer plusieurs, dupliquez le motif.",
        error_messages={
            "required": "Choisissez le type de rendez-vous.",
            "invalid_choice": "Choisissez un type de rendez-vous dans la liste.",
        },
    )
    service = ModelChoiceField(
        label="Service",
        queryset=Service.objects.none(),
        empty_label="Choisissez un service",
        help_text="Les agents de ce service pourront proposer ce motif. Seuls les services activés dans l'espace "
        "sont proposés.",
        error_messages={
            "required": "Choisissez le service du motif.",
            "invalid_choice": "Ce service n'est pas proposé dans cet espace.",
        },
    )
    collective = forms.BooleanField(
        label="Motif collectif (plusieurs participants)",
        help_text="Un rendez-vous collectif a lieu sur place.",
        required=False,
    )
    max_participants = forms.IntegerField(
        label="Nombre maximum de participants",
        help_text="Pour un motif collectif uniquement.",
        required=False,
        widget=forms.NumberInput(attrs={"min": 2, "step": 1}),
        error_messages={"invalid": "Le nombre maximum de participants doit être un nombre entier."},
    )
    follow_up = forms.BooleanField(
        label="Suivi par le référent",
        help_text="Le rendez-vous ne peut être pris qu'avec un référent de l'usager.",
        required=False,
    )
    for_secretariat = forms.BooleanField(
        label="Ouvert au secrétariat",
        help_text="Les agents du secrétariat peuvent aussi poser des rendez-vous sur ce motif.",
        required=False,
    )
    bookable_by = forms.ChoiceField(
        label="Qui peut réserver ?",
        choices=BookableBy.choices,
        initial=BookableBy.AGENTS,
        widget=forms.RadioSelect,
        help_text=f"{motif_services.ONLINE_RULE} Un autre choix ferme le motif à la réservation en ligne.",
        error_messages={
            "required": "Choisissez qui peut réserver ce motif.",
            "invalid_choice": "Choisissez qui peut réserver ce motif dans la liste.",
        },
    )

    def __init__(self, ctx, *args, motif: Motif | None = None, locked=False, siblings=(), **kwargs):
        if motif is not None and "initial" not in kwargs:
            kwargs["initial"] = {field: getattr(motif, field) for field in self.base_fields}
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = motif_selectors.service_choices(ctx, motif.service if motif else None)
        if motif is not None and motif.bookable_online:
            set_help_text(
                self,
                "bookable_by",
                "Ce motif est ouvert aux usagers (réservation en ligne). Il le reste avec « "
                f"{BookableBy.AGENTS_PRESCRIPTEURS_INVITED_USAGERS.label} » ou « {BookableBy.EVERYONE.label} » ; "
                "un autre choix le ferme à la réservation en ligne.",
            )
        if locked:
            for field, what in (("location_type", "le type"), ("collective", "le caractère collectif")):
                self.fields[field].disabled = True
                set_help_text(self, field, LOCKED_HELP.format(what))
        self.add_batch_field(siblings)

    def focus_on_modalities(self) -> None:
        """After a duplication: the fields to change come first."""
        self.fields["location_type"].widget.attrs["autofocus"] = True


class TerritoryMotifCreateForm(MotifConfigurationForm):
    """The espace admin creates the motif in one or more organisations of the espace."""

    organisations = ModelMultipleChoiceField(
        label="Organisations concernées",
        help_text="Un motif indépendant est créé dans chaque organisation cochée ; chacun se modifie ensuite "
        "séparément.",
        queryset=Organisation.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choisissez au moins une organisation.",
            "invalid_choice": "Cette organisation ne fait pas partie de l'espace.",
            "invalid_pk_value": "Cette organisation ne fait pas partie de l'espace.",
        },
    )

    field_order = ["organisations"]

    def __init__(self, ctx, *args, **kwargs):
        super().__init__(ctx, *args, **kwargs)
        organisations = territory_selectors.organisation_choices(ctx)
        self.fields["organisations"].queryset = organisations
        if len(organisations) == 1:
            self.fields["organisations"].initial = [organisations[0].pk]


# Online booking ------------------------------------------------------------------------------

DELAY_UNITS = [
    ("minutes", "minutes", 1),
    ("hours", "heures", 60),
    ("days", "jours", 24 * 60),
    ("weeks", "semaines", 7 * 24 * 60),
    ("months", "mois (30 jours)", 30 * 24 * 60),
]
UNIT_MINUTES = {code: minutes for code, _, minutes in DELAY_UNITS}


def split_delay(minutes: int) -> tuple[int, str]:
    """A number of minutes as (value, unit) with the largest unit that divides it exactly."""
    for code, _, size in reversed(DELAY_UNITS):
        if minutes and minutes % size == 0:
            return minutes // size, code
    return minutes, "minutes"


class MotifOnlineBookingForm(BatchMixin, DsfrForm):
    bookable_online = forms.BooleanField(
        label="Ouvert aux usagers (réservation en ligne)",
        help_text="Un badge « En ligne » est alors affiché sur le motif.",
        required=False,
    )
    min_delay_value = forms.IntegerField(
        label="Délai minimum",
        widget=forms.NumberInput(attrs={"min": 1, "step": 1}),
        error_messages={
            "required": "Indiquez le délai minimum de réservation.",
            "invalid": "Le délai minimum doit être un nombre entier.",
        },
    )
    min_delay_unit = forms.ChoiceField(
        label="Unité du délai minimum",
        choices=[(code, label) for code, label, _ in DELAY_UNITS],
        error_messages={"invalid_choice": "Choisissez une unité dans la liste."},
    )
    max_delay_value = forms.IntegerField(
        label="Délai maximum",
        widget=forms.NumberInput(attrs={"min": 1, "step": 1}),
        error_messages={
            "required": "Indiquez le délai maximum de réservation.",
            "invalid": "Le délai maximum doit être un nombre entier.",
        },
    )
    max_delay_unit = forms.ChoiceField(
        label="Unité du délai maximum",
        choices=[(code, label) for code, label, _ in DELAY_UNITS],
        error_messages={"invalid_choice": "Choisissez une unité dans la liste."},
    )
    usager_can_move = forms.BooleanField(
        label="L'usager peut déplacer son rendez-vous",
        help_text="Depuis le lien reçu par e-mail ou SMS.",
        required=False,
    )
    usager_can_cancel = forms.BooleanField(
        label="L'usager peut annuler son rendez-vous",
        help_text="Depuis le lien reçu par e-mail ou SMS.",
        required=False,
    )
    visibility = forms.ChoiceField(
        label="Visibilité pour l'usager",
        choices=Visibility.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choisissez la visibilité pour l'usager.",
            "invalid_choice": "Choisissez la visibilité pour l'usager dans la liste.",
        },
    )

    def __init__(self, *args, motif: Motif, siblings=(), **kwargs):
        if "initial" not in kwargs:
            min_value, min_unit = split_delay(motif.min_booking_delay_minutes)
            max_value, max_unit = split_delay(motif.max_booking_delay_minutes)
            kwargs["initial"] = {
                "bookable_online": motif.bookable_online,
                "min_delay_value": min_value,
                "min_delay_unit": min_unit,
                "max_delay_value": max_value,
                "max_delay_unit": max_unit,
                "usager_can_move": motif.usager_can_move,
                "usager_can_cancel": motif.usager_can_cancel,
                "visibility": motif.visibility,
            }
        super().__init__(*args, **kwargs)
        current = BookableBy(motif.bookable_by).label
        if motif_services.online_allowed(motif.bookable_by):
            rule = f"Possible : « Qui peut réserver » vaut « {current} »."
        else:
            rule = f"{motif_services.ONLINE_RULE} Actuellement : « {current} » : changez d'abord « Qui peut réserver »."
        set_help_text(self, "bookable_online", f"{rule} Un badge « En ligne » est alors affiché sur le motif.")
        self.add_batch_field(siblings)

    def clean(self):
        data = super().clean()
        for which in ("min", "max"):
            value, unit = data.get(f"{which}_delay_value"), data.get(f"{which}_delay_unit")
            if value is not None and unit in UNIT_MINUTES:
                data[f"{which}_booking_delay_minutes"] = value * UNIT_MINUTES[unit]
        return data

    # The service names model fields; the form shows their errors on the value inputs.
    DOMAIN_FIELDS = {
        "min_booking_delay_minutes": "min_delay_value",
        "max_booking_delay_minutes": "max_delay_value",
    }


# Notifications and instructions -------------------------------------------------------------------

# Plain text, escaped when rendered like every help text (rdv.www.forms.base.BoundField).
FORMATTING_HELP = (
    "Les retours à la ligne sont conservés. Mise en forme possible : liens "
    '(<a href="https://…">texte</a>), <strong>, <em>, listes <ul>/<li>. '
    "Tout autre code est retiré."
)


def _text_field(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=f"{help_text} {FORMATTING_HELP}",
        required=False,
        max_length=INSTRUCTIONS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"max_length": f"Ce texte ne doit pas dépasser {INSTRUCTIONS_MAX_LENGTH} caractères."},
    )


class MotifInstructionsForm(BatchMixin, DsfrForm):
    instructions_before = _text_field(
        "Instructions avant la réservation",
        "Affichées à l'usager pendant la réservation en ligne, avant le choix du créneau.",
    )
    instructions_after = _text_field(
        "Instructions après la réservation",
        "Affichées sur l'écran de confirmation, dans le bloc « informations complémentaires » de l'e-mail et "
        "sur la page d'information du rendez-vous (lien du SMS).",
    )
    cancellation_warning = _text_field(
        "Avertissement d'annulation",
        "Affiché à l'usager qui annule son rendez-vous. Laissé vide, le message par défaut est utilisé.",
    )

    def __init__(self, *args, motif: Motif, siblings=(), **kwargs):
        if "initial" not in kwargs:
            kwargs["initial"] = {
                field: rich_text_for_editing(getattr(motif, field)) for field in MotifInstructionsForm.base_fields
            }
        super().__init__(*args, **kwargs)
        self.add_batch_field(siblings)


# List filters ------------------------------------------------------------------------------------


class MotifFilterForm(DsfrForm):
    ONLINE_CHOICES = [("", "Tous"), ("oui", "En ligne"), ("non", "Hors ligne")]
    ARCHIVED_CHOICES = [("", "Actifs"), ("archives", "Archivés"), ("tous", "Actifs et archivés")]

    organisation = ModelChoiceField(
        label="Organisation", queryset=Organisation.objects.none(), required=False, empty_label="Toutes"
    )
    service = ModelChoiceField(label="Service", queryset=Service.objects.none(), required=False, empty_label="Tous")
    location_type = forms.ChoiceField(label="Type", choices=[("", "Tous"), *LocationType.choices], required=False)
    online = forms.ChoiceField(label="Réservation en ligne", choices=ONLINE_CHOICES, required=False)
    archived = forms.ChoiceField(label="État", choices=ARCHIVED_CHOICES, required=False)

    def __init__(self, ctx, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organisations, services = motif_selectors.filter_choices(ctx)
        if organisations is None:
            del self.fields["organisation"]
        else:
            self.fields["organisation"].queryset = organisations
        self.fields["service"].queryset = services
