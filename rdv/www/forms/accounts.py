from django import forms
from django.contrib.auth import forms as auth_forms

from rdv.accounts.models import Agent
from rdv.www.forms.base import DsfrForm, max_length


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
