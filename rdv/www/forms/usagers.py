"""Usager file forms. Which fields appear depends on the espace's settings (hidden standard fields,
custom fields); the service functions re-check everything."""

import datetime

from django import forms
from dsfr.utils import dsfr_input_class_attr

from rdv.core.errors import DomainError
from rdv.core.phones import PHONE_INPUT_MAX_LENGTH, InvalidPhone, format_phone, normalise_phone
from rdv.core.text import SEARCH_MAX_LENGTH, de
from rdv.usagers import selectors as usager_selectors
from rdv.usagers import services as usager_services
from rdv.usagers.models import CustomField, CustomFieldKind, FamilySituation, Logement, Usager
from rdv.www.forms.base import DateField, DsfrForm, max_length

DATE_WIDGET_FORMAT = "%Y-%m-%d"


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format=DATE_WIDGET_FORMAT)


class UsagerSearchForm(DsfrForm):
    q = forms.CharField(
        label="Rechercher un usager",
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        help_text="Nom, prénom, e-mail, téléphone ou date de naissance (JJ/MM/AAAA). Les accents sont ignorés.",
        widget=forms.TextInput(attrs={"type": "search"}),
    )


class InlineRadioSelect(forms.RadioSelect):
    inline = True  # read by the DSFR radio snippet


def custom_form_field(field: CustomField) -> forms.Field:
    """The form field of a custom field, with French messages."""
    messages = {"required": f"Le champ « {field.label} » est obligatoire."}
    common = {"label": field.label, "required": field.required, "help_text": field.help_text}
    kind = field.kind
    if kind == CustomFieldKind.TEXT:
        messages["max_length"] = f"« {field.label} » ne doit pas dépasser {usager_services.TEXT_MAX_LENGTH} caractères."
        return forms.CharField(max_length=usager_services.TEXT_MAX_LENGTH, error_messages=messages, **common)
    if kind == CustomFieldKind.LONG_TEXT:
        messages["max_length"] = (
            f"« {field.label} » ne doit pas dépasser {usager_services.LONG_TEXT_MAX_LENGTH} caractères."
        )
        return forms.CharField(
            max_length=usager_services.LONG_TEXT_MAX_LENGTH,
            widget=forms.Textarea(attrs={"rows": 3}),
            error_messages=messages,
            **common,
        )
    if kind == CustomFieldKind.NUMBER:
        # Parsed by the service (accepts "3,5" and "3.5"), which gives the French error message.
        return forms.CharField(
            max_length=30, widget=forms.TextInput(attrs={"inputmode": "decimal"}), error_messages=messages, **common
        )
    if kind == CustomFieldKind.DATE:
        messages["invalid"] = f"« {field.label} » : saisissez une date valide, par exemple 31/12/2024."
        return DateField(widget=_date_widget(), error_messages=messages, **common)
    if kind == CustomFieldKind.BOOLEAN:
        choices = [("oui", "Oui"), ("non", "Non")]
        if not field.required:
            choices.append(("", "Non renseigné"))
        messages["invalid_choice"] = f"« {field.label} » : répondez par oui ou par non."
        return forms.ChoiceField(choices=choices, widget=InlineRadioSelect, error_messages=messages, **common)
    if kind == CustomFieldKind.CHOICE:
        messages["invalid_choice"] = (
            f"Cette valeur ne fait pas partie des options de « {field.label} » : choisissez une option de la liste."
        )
        choices = [("", "Choisir une option")] + [(option, option) for option in field.choices]
        return forms.ChoiceField(choices=choices, error_messages=messages, **common)
    raise ValueError(f"unknown custom field kind {kind!r}")


def custom_initial(field: CustomField, value):
    """Stored JSON value -> what the form field shows."""
    if value is None:
        return None
    if field.kind == CustomFieldKind.DATE:
        try:
            return datetime.date.fromisoformat(value)
        except (TypeError, ValueError):
            return None
    if field.kind == CustomFieldKind.BOOLEAN:
        return "oui" if value else "non"
    if field.kind == CustomFieldKind.NUMBER:
        return field.display(value)
    return value


class UsagerForm(DsfrForm):
    """Create or edit an usager file: the standard fields the espace shows, then its custom fields."""

    GROUPS = [
        ("Identité", ["first_name", "last_name", "birth_name", "birth_date"]),
        ("Coordonnées", ["email", "phone", "address", "postal_code", "city"]),
        ("Situation", ["caf_number", "family_situation", "number_of_children", "case_number", "logement"]),
        ("Notifications", ["notify_by_email", "notify_by_sms"]),
        ("Remarques", ["notes"]),
    ]

    first_name = forms.CharField(
        label="Prénom",
        max_length=max_length(Usager, "first_name"),
        error_messages={"required": "Le prénom est obligatoire."},
    )
    last_name = forms.CharField(
        label="Nom d'usage",
        max_length=max_length(Usager, "last_name"),
        error_messages={"required": "Le nom est obligatoire."},
    )
    birth_name = forms.CharField(label="Nom de naissance", max_length=max_length(Usager, "birth_name"), required=False)
    birth_date = forms.DateField(  # its range (past, after 1900) is the usager service's rule
        label="Date de naissance",
        required=False,
        widget=_date_widget(),
        error_messages={"invalid": "Saisissez une date de naissance valide, par exemple 31/12/1990."},
    )
    email = forms.CharField(
        label="Adresse e-mail",
        max_length=max_length(Usager, "email"),
        required=False,
        help_text="Format attendu : prenom.nom@exemple.fr",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    phone = forms.CharField(
        label="Téléphone",
        max_length=PHONE_INPUT_MAX_LENGTH,
        required=False,
        help_text="Numéro français (06 12 34 56 78) ou international (+32 470 12 34 56)",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    address = forms.CharField(label="Adresse", max_length=max_length(Usager, "address"), required=False)
    # Numbers typed as text (leading zeros kept): numeric keyboards on phones and tablets.
    postal_code = forms.CharField(
        label="Code postal",
        max_length=max_length(Usager, "postal_code"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    city = forms.CharField(label="Commune", max_length=max_length(Usager, "city"), required=False)
    caf_number = forms.CharField(
        label="Numéro d'allocataire CAF",
        max_length=max_length(Usager, "caf_number"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    family_situation = forms.ChoiceField(
        label="Situation familiale", choices=[("", "Non renseignée"), *FamilySituation.choices], required=False
    )
    number_of_children = forms.IntegerField(
        label="Nombre d'enfants",
        required=False,
        min_value=0,
        max_value=usager_services.MAX_CHILDREN,
        error_messages={
            "invalid": "Saisissez un nombre entier d'enfants.",
            "min_value": "Le nombre d'enfants ne peut pas être négatif.",
            "max_value": f"Le nombre d'enfants doit être au plus {usager_services.MAX_CHILDREN}.",
        },
    )
    case_number = forms.CharField(
        label="Numéro de dossier", max_length=max_length(Usager, "case_number"), required=False
    )
    logement = forms.ChoiceField(label="Logement", choices=[("", "Non renseigné"), *Logement.choices], required=False)
    notify_by_email = forms.BooleanField(label="Accepte d'être notifié(e) par e-mail", required=False, initial=True)
    notify_by_sms = forms.BooleanField(label="Accepte d'être notifié(e) par SMS", required=False, initial=True)
    notes = forms.CharField(
        label="Remarques",
        required=False,
        max_length=usager_services.LONG_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Visibles par les agents uniquement.",
    )

    def __init__(self, ctx, *args, usager: Usager | None = None, **kwargs):
        self.territory = ctx.territory
        self.usager = usager
        self.custom_fields = list(usager_selectors.custom_fields(ctx))
        if usager is not None:
            initial = {name: getattr(usager, name) for name in usager_services.STANDARD_FIELDS}
            initial["phone"] = format_phone(usager.phone)
            for field in self.custom_fields:
                initial[field.key] = custom_initial(field, (usager.custom_values or {}).get(field.key))
            kwargs["initial"] = {**initial, **kwargs.get("initial", {})}
        super().__init__(*args, **kwargs)
        for name in usager_services.STANDARD_FIELDS:
            if not usager_services.field_visible(self.territory, name):
                del self.fields[name]
        for field in self.custom_fields:
            self.fields[field.key] = custom_form_field(field)
        self.show_responsible = usager_services.field_visible(self.territory, "responsible")
        if usager is not None and usager.responsible_id and self.show_responsible:
            self.fields["detach_responsible"] = forms.BooleanField(
                label=f"Détacher {de(usager.responsible)} (usager responsable)", required=False
            )
        # DSFR classes for the fields added after the base form's __init__.
        for name in [field.key for field in self.custom_fields]:
            dsfr_input_class_attr(self[name])

    def clean_email(self) -> str:
        try:
            return usager_services.clean_standard_value("email", self.cleaned_data["email"])
        except DomainError as error:
            raise forms.ValidationError(error.message) from error

    def clean_phone(self) -> str:
        try:
            return normalise_phone(self.cleaned_data["phone"])
        except InvalidPhone as exc:
            raise forms.ValidationError(InvalidPhone.message) from exc

    def clean_birth_date(self):
        try:
            return usager_services.clean_standard_value("birth_date", self.cleaned_data["birth_date"])
        except DomainError as error:
            raise forms.ValidationError(error.message) from error

    def clean(self):
        data = super().clean()
        for field in self.custom_fields:
            if field.key not in data:  # already refused by the form field
                continue
            try:
                usager_services.clean_custom_value(field, data[field.key])
            except DomainError as error:
                self.add_error(field.key, error.message)
        return data

    # What the views pass to the service functions.

    def standard_data(self) -> dict:
        return {
            name: self.cleaned_data[name]
            for name in usager_services.STANDARD_FIELDS
            if name in self.fields and name in self.cleaned_data
        }

    def custom_values(self) -> dict:
        return {field: self.cleaned_data.get(field.key) for field in self.custom_fields}

    def groups(self) -> list[tuple[str, list]]:
        """(legend, bound fields) for the template's fieldsets; empty groups are left out."""
        groups = [(legend, [self[name] for name in names if name in self.fields]) for legend, names in self.GROUPS]
        if self.custom_fields:
            groups.append(("Informations complémentaires", [self[field.key] for field in self.custom_fields]))
        if "detach_responsible" in self.fields:
            groups.append(("Usager responsable", [self["detach_responsible"]]))
        return [(legend, fields) for legend, fields in groups if fields]
