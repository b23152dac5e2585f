"""Agenda forms (lieux, plages d'ouverture, absences, slot search): they parse input; the rules are
checked by rdv.agendas.services."""

from django import forms

from rdv.accounts.models import Agent
from rdv.agendas.models import MAX_RECURRENCE_INTERVAL, WEEKDAY_LABELS, Absence, Lieu, PlageOuverture, RecurrenceKind
from rdv.core.phones import PHONE_INPUT_MAX_LENGTH
from rdv.motifs.models import Motif
from rdv.www.forms.base import (
    DateField,
    DsfrForm,
    ModelChoiceField,
    ModelMultipleChoiceField,
    max_length,
    set_help_text,
    too_long,
)

DATE_FORMAT = "%Y-%m-%d"
TIME_FORMAT = "%H:%M"
DATE_INVALID = "Saisissez une date valide, par exemple 31/12/2026."
TIME_INVALID = "Saisissez une heure valide, par exemple 09:30."
WEEKDAY_CHOICES = [(str(i), label.capitalize()) for i, label in enumerate(WEEKDAY_LABELS)]


def date_field(label: str, required: bool = True, required_message: str = "", **kwargs) -> forms.DateField:
    return DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs={"type": "date"}, format=DATE_FORMAT),
        error_messages={"required": required_message or f"Indiquez la {label.lower()}.", "invalid": DATE_INVALID},
        **kwargs,
    )


def time_field(label: str, required: bool = True, required_message: str = "", **kwargs) -> forms.TimeField:
    return forms.TimeField(
        label=label,
        required=required,
        widget=forms.TimeInput(attrs={"type": "time", "step": 300}, format=TIME_FORMAT),
        error_messages={"required": required_message or f"Indiquez l'{label.lower()}.", "invalid": TIME_INVALID},
        **kwargs,
    )


class InlineCheckboxSelectMultiple(forms.CheckboxSelectMultiple):
    inline = True  # read by the DSFR checkbox snippet


class InlineRadioSelect(forms.RadioSelect):
    inline = True  # read by the DSFR radio snippet


# Lieux ---------------------------------------------------------------------------------------


class LieuForm(DsfrForm):
    name = forms.CharField(
        label="Nom du lieu",
        max_length=max_length(Lieu, "name"),
        error_messages={
            "required": "Le nom du lieu est obligatoire.",
            "max_length": too_long("Le nom", max_length(Lieu, "name")),
        },
    )
    address = forms.CharField(
        label="Adresse",
        max_length=max_length(Lieu, "address"),
        help_text="Numéro, rue, code postal et commune, par exemple : 12 rue de la République 26000 Valence",
        error_messages={
            "required": "L'adresse du lieu est obligatoire.",
            "max_length": too_long("L'adresse", max_length(Lieu, "address")),
        },
    )
    phone = forms.CharField(
        label="Téléphone",
        max_length=PHONE_INPUT_MAX_LENGTH,
        required=False,
        help_text="Numéro français (04 75 12 34 56) ou international (+32 2 123 45 67)",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
        error_messages={"max_length": too_long("Le numéro", PHONE_INPUT_MAX_LENGTH)},
    )
    is_open = forms.BooleanField(
        label="Ouvert au public",
        required=False,
        initial=True,
        help_text="Un lieu fermé n'est plus proposé pour les nouvelles plages, et ses créneaux ne sont plus "
        "proposés à la réservation.",
    )

    def __init__(self, *args, lieu: Lieu | None = None, **kwargs):
        if lieu is not None and "initial" not in kwargs:
            from rdv.agendas.services import lieu_phone_display

            kwargs["initial"] = {
                "name": lieu.name,
                "address": lieu.address,
                "phone": lieu_phone_display(lieu),
                "is_open": lieu.is_open,
            }
        super().__init__(*args, **kwargs)


# Recurrence fields, shared by plages and absences ----------------------------------------------


class RecurrenceFormMixin(forms.Form):
    recurrence = forms.ChoiceField(
        label="Répétition",
        choices=[
            (RecurrenceKind.NONE, "Pas de répétition"),
            (RecurrenceKind.WEEKLY, "Toutes les N semaines, les jours cochés"),
            (RecurrenceKind.MONTHLY, "Tous les N mois, le même jour de la semaine (par exemple le 2e mardi)"),
        ],
        initial=RecurrenceKind.NONE,
        widget=forms.RadioSelect,
        help_text="Le jour mensuel suit la date de début : une plage commençant le 2e mardi d'un mois revient "
        "chaque 2e mardi (le 5e devient « le dernier »).",
        error_messages={
            "required": "Choisissez une répétition.",
            "invalid_choice": "Choisissez une répétition dans la liste.",
        },
    )
    recurrence_interval = forms.IntegerField(
        label="Toutes les N semaines ou N mois",
        required=False,
        initial=1,
        min_value=1,
        max_value=MAX_RECURRENCE_INTERVAL,
        help_text=f"1 = chaque semaine (ou chaque mois), 2 = une semaine sur deux… De 1 à {MAX_RECURRENCE_INTERVAL}.",
        widget=forms.NumberInput(attrs={"min": 1, "max": MAX_RECURRENCE_INTERVAL, "step": 1}),
        error_messages={
            "invalid": "L'intervalle de répétition doit être un nombre entier.",
            "min_value": "L'intervalle de répétition doit être d'au moins 1.",
            "max_value": f"L'intervalle de répétition ne peut pas dépasser {MAX_RECURRENCE_INTERVAL}.",
        },
    )
    recurrence_weekdays = forms.MultipleChoiceField(
        label="Jours de la semaine (répétition hebdomadaire)",
        required=False,
        choices=WEEKDAY_CHOICES,
        widget=InlineCheckboxSelectMultiple,
        help_text="Sans jour coché : le jour de la semaine de la date de début.",
        error_messages={"invalid_choice": "Choisissez les jours de la semaine dans la liste."},
    )
    recurrence_last_of_month = forms.BooleanField(
        label="Le dernier jour de ce type du mois (répétition mensuelle)",
        required=False,
        help_text="Par exemple « le dernier vendredi du mois », quel que soit le rang de la date de début.",
    )
    until = date_field("Jusqu'au (inclus)", required=False, help_text="Laissez vide pour une répétition sans fin.")

    RECURRENCE_FIELDS = (
        "recurrence",
        "recurrence_interval",
        "recurrence_weekdays",
        "recurrence_last_of_month",
        "until",
    )

    @staticmethod
    def recurrence_initial(obj) -> dict:
        return {
            "recurrence": obj.recurrence,
            "recurrence_interval": obj.recurrence_interval,
            "recurrence_weekdays": [str(d) for d in obj.recurrence_weekdays or []],
            "recurrence_last_of_month": obj.recurrence_last_of_month,
            "until": obj.until,
        }

    def recurrence_data(self) -> dict:
        data = {name: self.cleaned_data.get(name) for name in self.RECURRENCE_FIELDS}
        data["recurrence_weekdays"] = [int(d) for d in data["recurrence_weekdays"] or []]
        return data


# Plages ------------------------------------------------------------------------------------------


class MotifChoiceField(ModelMultipleChoiceField):
    def label_from_instance(self, motif: Motif) -> str:
        label = f"{motif.name} ({motif.get_location_type_display().lower()}, {motif.default_duration_minutes} min)"
        return f"{label} — archivé" if motif.archived_at else label


class PlageForm(RecurrenceFormMixin, DsfrForm):
    title = forms.CharField(
        label="Titre",
        required=False,
        max_length=max_length(PlageOuverture, "title"),
        help_text="Par défaut, la plage est désignée par ses motifs.",
        error_messages={"max_length": too_long("Le titre", max_length(PlageOuverture, "title"))},
    )
    lieu = ModelChoiceField(
        label="Lieu",
        queryset=Lieu.objects.none(),
        empty_label="Choisir un lieu",
        error_messages={
            "required": "Choisissez le lieu de la plage.",
            "invalid_choice": "Ce lieu n'est pas proposé : choisissez un lieu ouvert de l'organisation.",
        },
    )
    motifs = MotifChoiceField(
        label="Motifs",
        queryset=Motif.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="Les motifs actifs de l'organisation relevant des services de l'agent.",
        error_messages={
            "required": "Choisissez au moins un motif.",
            "invalid_choice": "Ce motif n'est pas proposé pour cet agent.",
            "invalid_pk_value": "Ce motif n'est pas proposé pour cet agent.",
        },
    )
    first_date = date_field("Date de début", required_message="Indiquez la date de la première occurrence.")
    start_time = time_field("Heure de début", required_message="Indiquez l'heure de début.")
    end_time = time_field("Heure de fin", required_message="Indiquez l'heure de fin.")

    field_order = [
        "title",
        "lieu",
        "motifs",
        "first_date",
        "start_time",
        "end_time",
        "recurrence",
        "recurrence_interval",
        "recurrence_weekdays",
        "until",
    ]
    GROUPS = [
        ("Où et pour quoi", ["title", "lieu", "motifs"]),
        ("Quand", ["first_date", "start_time", "end_time"]),
        (
            "Répétition",
            ["recurrence", "recurrence_interval", "recurrence_weekdays", "recurrence_last_of_month", "until"],
        ),
    ]

    def __init__(self, *args, lieux, motifs, plage=None, fixed_first_date=None, **kwargs):
        """`lieux` and `motifs`: the choices (rdv.agendas.selectors.plage_choices)."""
        if plage is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "title": plage.title,
                "lieu": plage.lieu,
                "motifs": list(plage.motifs.all()),
                "first_date": plage.first_date,
                "start_time": plage.start_time,
                "end_time": plage.end_time,
                **self.recurrence_initial(plage),
            }
        if fixed_first_date is not None:
            kwargs.setdefault("initial", {})["first_date"] = fixed_first_date
        super().__init__(*args, **kwargs)
        self.fields["lieu"].queryset = lieux
        self.fields["motifs"].queryset = motifs
        if fixed_first_date is not None:
            self.fields["first_date"].disabled = True
            set_help_text(self, "first_date", "Les occurrences précédentes gardent les réglages actuels de la série.")

    @property
    def groups(self):
        return [(legend, [self[name] for name in names]) for legend, names in self.GROUPS]

    def plage_data(self) -> dict:
        data = {name: self.cleaned_data.get(name) for name in ("title", "lieu", "first_date", "start_time", "end_time")}
        data["motifs"] = list(self.cleaned_data.get("motifs") or [])
        data.update(self.recurrence_data())
        return data


class OccurrenceForm(DsfrForm):
    start_time = time_field("Nouvelle heure de début", required_message="Indiquez l'heure de début.")
    end_time = time_field("Nouvelle heure de fin", required_message="Indiquez l'heure de fin.")


class EndPlageForm(DsfrForm):
    until = date_field(
        "Date de la dernière occurrence",
        required_message="Indiquez la date de la dernière occurrence.",
        help_text="Les occurrences suivantes sont supprimées ; les précédentes restent dans l'historique.",
    )


# Absences --------------------------------------------------------------------------------------


class AbsenceForm(RecurrenceFormMixin, DsfrForm):
    title = forms.CharField(
        label="Titre",
        max_length=max_length(Absence, "title"),
        help_text="Par exemple : Congés, Formation, Réunion d'équipe.",
        error_messages={
            "required": "Donnez un titre à l'absence (par exemple « Congés » ou « Formation »).",
            "max_length": too_long("Le titre", max_length(Absence, "title")),
        },
    )
    whole_day = forms.BooleanField(
        label="Journée entière", required=False, help_text="Les heures sont alors ignorées (de 00:00 à 23:59)."
    )
    first_date = date_field("Date de début", required_message="Indiquez la date de début de l'absence.")
    start_time = time_field("Heure de début", required=False)
    end_date = date_field("Date de fin", required=False, help_text="Laissez vide pour une absence d'un jour.")
    end_time = time_field("Heure de fin", required=False)

    field_order = [
        "title",
        "whole_day",
        "first_date",
        "start_time",
        "end_date",
        "end_time",
        "recurrence",
        "recurrence_interval",
        "recurrence_weekdays",
        "until",
    ]
    GROUPS = [
        ("Absence", ["title"]),
        ("Quand", ["whole_day", "first_date", "start_time", "end_date", "end_time"]),
        (
            "Répétition",
            ["recurrence", "recurrence_interval", "recurrence_weekdays", "recurrence_last_of_month", "until"],
        ),
    ]

    def __init__(self, *args, absence=None, **kwargs):
        if absence is not None and "initial" not in kwargs:
            from rdv.agendas.calendar import WHOLE_DAY_END, WHOLE_DAY_START

            whole_day = absence.start_time == WHOLE_DAY_START and absence.end_time == WHOLE_DAY_END
            kwargs["initial"] = {
                "title": absence.title,
                "whole_day": whole_day,
                "first_date": absence.first_date,
                "start_time": None if whole_day else absence.start_time,
                "end_date": absence.end_date,
                "end_time": None if whole_day else absence.end_time,
                **self.recurrence_initial(absence),
            }
        super().__init__(*args, **kwargs)
        set_help_text(
            self,
            "recurrence",
            "Une absence répétée dure au plus 7 jours. Le jour mensuel suit la date de début (par exemple le 2e "
            "mardi ; le 5e devient « le dernier »).",
        )

    @property
    def groups(self):
        return [(legend, [self[name] for name in names]) for legend, names in self.GROUPS]

    def absence_data(self) -> dict:
        names = ("title", "whole_day", "first_date", "start_time", "end_date", "end_time")
        data = {name: self.cleaned_data.get(name) for name in names}
        data.update(self.recurrence_data())
        return data


# Week view and slot search -------------------------------------------------------------------


class WeekForm(DsfrForm):
    date = date_field("Afficher la semaine du", required=False)


class AgentChoiceField(ModelMultipleChoiceField):
    def label_from_instance(self, agent: Agent) -> str:
        return str(agent)


class SlotSearchForm(DsfrForm):
    motif = ModelChoiceField(
        label="Motif",
        queryset=Motif.objects.none(),
        empty_label="Choisir un motif",
        error_messages={
            "required": "Choisissez un motif.",
            "invalid_choice": "Ce motif n'est pas proposé : choisissez un motif actif de l'organisation.",
        },
    )
    lieu = ModelChoiceField(
        label="Lieu",
        queryset=Lieu.objects.none(),
        required=False,
        empty_label="Tous les lieux",
        error_messages={"invalid_choice": "Ce lieu n'est pas proposé : choisissez un lieu de l'organisation."},
    )
    agents = AgentChoiceField(
        label="Agents",
        queryset=Agent.objects.none(),
        required=False,
        widget=InlineCheckboxSelectMultiple,
        help_text="Aucun agent coché : tous les agents.",
        error_messages={
            "invalid_choice": "Cet agent ne fait pas partie de l'organisation.",
            "invalid_pk_value": "Cet agent ne fait pas partie de l'organisation.",
        },
    )
    start_date = date_field(
        "Semaine du", required=False, help_text="Une date de la semaine à afficher ; laissez vide pour cette semaine."
    )

    def __init__(self, *args, motifs, lieux, agents, **kwargs):
        """`motifs`: those the agent may book (rdv.motifs.selectors.bookable_motifs), the same as the
        booking form's; `lieux` and `agents`: the organisation's."""
        super().__init__(*args, **kwargs)
        self.fields["motif"].queryset = motifs
        self.fields["lieu"].queryset = lieux
        self.fields["agents"].queryset = agents
