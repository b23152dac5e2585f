from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.template import loader
from django.utils import timezone

from rdv.accounts.models import Agent, ApiToken
from rdv.accounts.services import API_TOKEN_MAX_DAYS
from rdv.outbox.models import Purpose
from rdv.outbox.services import enqueue_email
from rdv.www.forms.base import DateField, DsfrForm, max_length, too_long


class LoginForm(auth_forms.AuthenticationForm, DsfrForm):
    username = forms.EmailField(
        label="Adresse e-mail", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    password = forms.CharField(
        label="Mot de passe", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    error_messages = {
        "invalid_login": "Adresse e-mail ou mot de passe incorrect.",
        "inactive": "Ce compte ne permet pas de se connecter.",
    }


class PasswordResetForm(auth_forms.PasswordResetForm, DsfrForm):
    email = forms.EmailField(label="Adresse e-mail", widget=forms.EmailInput(attrs={"autocomplete": "email"}))

    def send_mail(
        self, subject_template_name, email_template_name, context, from_email, to_email, html_email_template_name=None
    ):
        """Django's token and templates, but the e-mail goes through the delivery outbox (retried,
        visible when it fails) instead of being sent inside the request."""
        subject = loader.render_to_string(subject_template_name, context)
        html = loader.render_to_string(html_email_template_name, context) if html_email_template_name else ""
        enqueue_email(
            to=to_email,
            subject=subject,
            text=loader.render_to_string(email_template_name, context),
            html=html,
            purpose=Purpose.PASSWORD_RESET,
            about=context["user"],
            expires_at=timezone.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT),
        )


class SetPasswordForm(auth_forms.SetPasswordForm, DsfrForm):
    pass


class AcceptInvitationForm(DsfrForm):
    first_name = forms.CharField(
        label="Prénom",
        max_length=max_length(Agent, "first_name"),
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label="Nom",
        max_length=max_length(Agent, "last_name"),
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    password1 = forms.CharField(
        label="Mot de passe",
        strip=False,
        help_text="Au moins 10 caractères, pas uniquement des chiffres, ni trop courant.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Confirmation du mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", "Les deux mots de passe ne sont pas identiques.")
        return data


class ApiTokenForm(DsfrForm):
    """A new personal API token: the rules (future date, at most a year, 20 active tokens) are
    checked by rdv.accounts.services.create_api_token; the form parses the input."""

    name = forms.CharField(
        label="Nom du jeton",
        max_length=max_length(ApiToken, "name"),
        help_text="Pour le reconnaître dans la liste : le logiciel ou le service qui l’utilisera, par exemple.",
        error_messages={
            "required": "Donnez un nom au jeton (l’outil qui l’utilisera, par exemple).",
            "max_length": too_long("Le nom du jeton", max_length(ApiToken, "name")),
        },
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    expires_on = DateField(
        label="Date d’expiration",
        required=False,
        help_text="Au plus tard dans un an ; le jeton cesse de fonctionner ce jour-là à 0 h. "
        "Sans date, il fonctionne jusqu’à ce que vous le révoquiez.",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Saisissez une date valide, par exemple 31/12/2026."},
    )

    def __init__(self, *args, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        today = today or timezone.localdate()
        # The date picker offers only the allowed days; the service checks them anyway.
        self.fields["expires_on"].widget.attrs.update(
            {
                "min": (today + timedelta(days=1)).isoformat(),
                "max": (today + timedelta(days=API_TOKEN_MAX_DAYS)).isoformat(),
            }
        )
