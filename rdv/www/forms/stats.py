"""The period and filters of the statistics dashboards (GET). Invalid fields are reported on the
form and replaced by their default (the period) or ignored (the filters): the page still shows."""

from django import forms

from rdv.bookings.stats import MAX_PERIOD_DAYS
from rdv.motifs.models import Motif
from rdv.territories.models import Organisation, Service
from rdv.www.forms.base import DateField, DsfrForm, ModelChoiceField

DATE_FORMAT = "%Y-%m-%d"


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format=DATE_FORMAT)


class MotifFilterField(ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} — {obj.service.name} ({obj.organisation.name})"


class StatsFilterForm(DsfrForm):
    du = DateField(
        label="Du",
        required=False,
        widget=_date_widget(),
        help_text="Premier jour de la période (rendez-vous commençant ce jour-là ou après).",
        error_messages={"invalid": "Date de début invalide : saisissez une date au format JJ/MM/AAAA."},
    )
    au = DateField(
        label="Au",
        required=False,
        widget=_date_widget(),
        help_text="Dernier jour de la période, inclus.",
        error_messages={"invalid": "Date de fin invalide : saisissez une date au format JJ/MM/AAAA."},
    )
    organisation = ModelChoiceField(
        label="Organisation",
        required=False,
        queryset=Organisation.objects.none(),
        empty_label="Toutes les organisations",
        error_messages={"invalid_choice": "Cette organisation ne fait pas partie de l'espace."},
    )
    service = ModelChoiceField(
        label="Service",
        required=False,
        queryset=Service.objects.none(),
        empty_label="Tous les services",
        error_messages={"invalid_choice": "Ce service n'est pas actif dans l'espace."},
    )
    motif = MotifFilterField(
        label="Motif",
        required=False,
        queryset=Motif.objects.none(),
        empty_label="Tous les motifs",
        error_messages={"invalid_choice": "Ce motif n'est pas proposé ici."},
    )

    def __init__(self, *args, organisations=None, services, motifs, **kwargs):
        super().__init__(*args, **kwargs)
        if organisations is None:
            del self.fields["organisation"]
        else:
            self.fields["organisation"].queryset = organisations
        self.fields["service"].queryset = services
        self.fields["motif"].queryset = motifs

    def clean(self):
        data = super().clean()
        first, last = data.get("du"), data.get("au")
        if "du" in self.errors or "au" in self.errors:
            return data
        if not first:
            self.add_error("du", "Saisissez la date de début de la période.")
        if not last:
            self.add_error("au", "Saisissez la date de fin de la période.")
        if first and last:
            if last < first:
                self.add_error("au", "La date de fin doit être le même jour que la date de début ou après.")
            elif (last - first).days >= MAX_PERIOD_DAYS:
                self.add_error("au", "La période ne peut pas dépasser deux ans : choisissez des dates plus proches.")
        return data
