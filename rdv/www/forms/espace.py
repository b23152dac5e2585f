import re

from django import forms
from django.core.validators import validate_email

from rdv.accounts.models import AccessLevel, Agent, Invitation
from rdv.core.text import SEARCH_MAX_LENGTH
from rdv.territories import sectors
from rdv.territories import selectors as territory_selectors
from rdv.territories.models import Organisation, Service
from rdv.www.forms.base import DsfrForm, ModelChoiceField, ModelMultipleChoiceField, max_length, too_long

NOT_ATTACHED = ""
LEVEL_CHOICES = [
    (NOT_ATTACHED, "Non rattaché"),
    (AccessLevel.BASIC, "Agent (accès de base)"),
    (AccessLevel.ADMIN, "Administrateur de l'organisation"),
    (AccessLevel.INTERVENANT, "Intervenant (sans connexion)"),
]


class OrganisationLevelsMixin:
    """One select per organisation of the espace: not attached, or the access level there."""

    def add_organisation_fields(self, ctx, initial: dict[int, str] | None = None) -> None:
        self.organisations = list(territory_selectors.organisation_choices(ctx))
        initial = initial or {}
        for organisation in self.organisations:
            self.fields[f"org_{organisation.pk}"] = forms.ChoiceField(
                label=organisation.name,
                choices=LEVEL_CHOICES,
                required=False,
                initial=initial.get(organisation.pk, NOT_ATTACHED),
            )

    def organisation_fields(self):
        return [self[f"org_{organisation.pk}"] for organisation in self.organisations]

    def organisation_levels(self) -> dict[Organisation, str]:
        return {
            organisation: self.cleaned_data[f"org_{organisation.pk}"]
            for organisation in self.organisations
            if self.cleaned_data.get(f"org_{organisation.pk}")
        }


class ServicesField(ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("error_messages", {"required": "Choisissez au moins un service."})
        super().__init__(**kwargs)


class InvitationForm(OrganisationLevelsMixin, DsfrForm):
    email = forms.CharField(
        label="Adresse e-mail de l'agent",
        max_length=max_length(Invitation, "email"),
        help_text="Une seule adresse : les agents sont invités un par un.",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        error_messages={"required": "Saisissez l'adresse e-mail de l'agent."},
    )
    services = ServicesField(
        label="Services",
        queryset=Service.objects.none(),
        # Declared here: DsfrBaseForm.__init__ builds the bound fields, which copy the help text.
        help_text="Seuls les services activés dans l'espace sont proposés.",
    )
    make_territory_admin = forms.BooleanField(label="Administrateur de l'espace", required=False)

    def __init__(self, ctx, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["services"].queryset = territory_selectors.active_services(ctx)
        self.add_organisation_fields(ctx)
        if len(self.organisations) == 1:
            self.fields[f"org_{self.organisations[0].pk}"].initial = AccessLevel.BASIC

    def clean_email(self) -> str:
        value = self.cleaned_data["email"].strip()
        if len([part for part in re.split(r"[\s,;]+", value) if part]) > 1 or value.count("@") > 1:
            raise forms.ValidationError("Une seule adresse e-mail par invitation : invitez les agents un par un.")
        try:
            validate_email(value)
        except forms.ValidationError as exc:
            raise forms.ValidationError(
                "Saisissez une adresse e-mail valide, par exemple prenom.nom@exemple.fr."
            ) from exc
        return value.lower()

    def clean(self):
        data = super().clean()
        if not any(data.get(f"org_{organisation.pk}") for organisation in self.organisations):
            raise forms.ValidationError("Choisissez au moins une organisation et le niveau d'accès de l'agent.")
        return data


class IntervenantForm(DsfrForm):
    """An intervenant: listed in agendas, without login (rdv.accounts.services.add_intervenant)."""

    first_name = forms.CharField(
        label="Prénom",
        max_length=max_length(Agent, "first_name"),
        error_messages={"required": "Le prénom est obligatoire."},
    )
    last_name = forms.CharField(
        label="Nom",
        max_length=max_length(Agent, "last_name"),
        error_messages={"required": "Le nom est obligatoire."},
    )
    email = forms.CharField(
        label="Adresse e-mail",
        required=False,
        max_length=max_length(Agent, "email"),
        help_text="Facultative : un intervenant ne reçoit aucun e-mail de connexion. Format attendu : "
        "prenom.nom@exemple.fr",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    services = ServicesField(
        label="Services",
        queryset=Service.objects.none(),
        help_text="L'intervenant peut être réservé pour les motifs de ces services. Seuls les services activés "
        "dans l'espace sont proposés.",
    )
    organisations = ModelMultipleChoiceField(
        label="Organisations",
        queryset=Organisation.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="Il apparaît dans les agendas de ces organisations, avec le niveau « Intervenant (sans connexion) ».",
        error_messages={
            "required": "Choisissez au moins une organisation.",
            "invalid_choice": "Cette organisation ne fait pas partie de l'espace.",
            "invalid_pk_value": "Cette organisation ne fait pas partie de l'espace.",
        },
    )

    def __init__(self, ctx, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["services"].queryset = territory_selectors.active_services(ctx)
        organisations = territory_selectors.organisation_choices(ctx)
        self.fields["organisations"].queryset = organisations
        if len(organisations) == 1:
            self.fields["organisations"].initial = [organisations[0].pk]


SERVICES_RULE = (
    "Au moins un service dès que l'agent est rattaché à une organisation : ses services décident des motifs qu'il "
    "propose. Les services de l'agent dans cet espace ; ses services dans d'autres espaces ne changent pas."
)


class AgentAssignmentForm(OrganisationLevelsMixin, DsfrForm):
    """An agent's services and access levels in the espace. The services are required while the agent
    belongs to an organisation (rdv.accounts.services.update_agent_assignments checks it again);
    removing the agent from every organisation leaves them optional."""

    services = ServicesField(
        label="Services",
        queryset=Service.objects.none(),
        help_text=SERVICES_RULE,
        error_messages={
            "required": "Choisissez au moins un service : un agent rattaché à une organisation en a au moins un."
        },
    )
    territory_admin = forms.BooleanField(label="Administrateur de l'espace", required=False)
    confirm_removal = forms.BooleanField(
        label="Je confirme retirer cet agent de toutes les organisations de l'espace",
        required=False,
        help_text="Son compte et son historique sont conservés.",
    )

    def __init__(self, ctx, *args, initial_levels=None, keeps_inactive_service=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["services"].queryset = territory_selectors.active_services(ctx)
        self.add_organisation_fields(ctx, initial_levels)
        # Required (and shown so) unless the agent leaves every organisation, or keeps a service the
        # espace deactivated (it still counts).
        attached = not self.is_bound or any(self.data.get(f"org_{o.pk}") for o in self.organisations)
        self.fields["services"].required = attached and not keeps_inactive_service


class OrganisationForm(DsfrForm):
    name = forms.CharField(
        label="Nom de l'organisation",
        max_length=max_length(Organisation, "name"),
        error_messages={
            "required": "Le nom est obligatoire.",
            "max_length": too_long("Le nom", max_length(Organisation, "name")),
        },
    )


class SectorCodesForm(DsfrForm):
    """Sectorisation: codes added to an organisation, one per line."""

    codes = forms.CharField(
        label="Codes à ajouter",
        # The longest accepted text: every line at its longest (code, space, commune).
        max_length=sectors.MAX_LINES * (sectors.CODE_LENGTH + 1 + sectors.COMMUNE_MAX_LENGTH + 2),
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text="Un code par ligne, éventuellement suivi de la commune, par exemple « 26000 Valence ». "
        "Codes postaux (5 chiffres) ou codes INSEE (5 caractères, 2A ou 2B en Corse).",
        error_messages={
            "required": "Saisissez au moins un code postal ou un code INSEE, par exemple « 26000 Valence ».",
            "max_length": f"Saisissez au plus {sectors.MAX_LINES} lignes à la fois.",
        },
    )

    def clean_codes(self) -> str:
        text = self.cleaned_data["codes"]
        entries, errors = sectors.parse_lines(text)
        if errors:
            raise forms.ValidationError(sectors.limit_errors(errors))
        if not entries:
            raise forms.ValidationError(self.fields["codes"].error_messages["required"])
        return text


class AgentFilterForm(DsfrForm):
    STATUS_CHOICES = [
        ("", "Tous"),
        ("admin", "Administrateurs d'organisation"),
        ("basic", "Agents"),
        ("intervenant", "Intervenants"),
        ("territory_admin", "Administrateurs de l'espace"),
        ("inactive_service", "Affectés à un service désactivé"),
    ]
    q = forms.CharField(label="Rechercher (nom ou e-mail)", required=False, max_length=SEARCH_MAX_LENGTH)
    organisation = ModelChoiceField(
        label="Organisation", queryset=Organisation.objects.none(), required=False, empty_label="Toutes"
    )
    service = ModelChoiceField(label="Service", queryset=Service.objects.all(), required=False, empty_label="Tous")
    status = forms.ChoiceField(label="Statut", choices=STATUS_CHOICES, required=False)

    def __init__(self, ctx, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = territory_selectors.organisation_choices(ctx)
