"""The link at the bottom of the usagers' e-mails: how they want to be told about their RDVs
(e-mail, SMS). A signed token names the usager (rdv.notifications.services); a wrong or old link
shows a French page, never whose file it is."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render

from rdv.notifications import services
from rdv.www.forms.base import DsfrForm
from rdv.www.public.limits import rate_limited


class PreferencesForm(DsfrForm):
    by_email = forms.BooleanField(label="Recevoir les messages par e-mail", required=False)
    by_sms = forms.BooleanField(label="Recevoir les messages par SMS", required=False)


@rate_limited("manage")
def preferences(request, token: str):
    usager = services.usager_from_token(token)
    if usager is None:
        return render(
            request,
            "public/preferences.html",
            {"title": "Lien invalide", "invalid": True},
            status=404,
        )
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            services.set_preferences(usager, by_email=form.cleaned_data["by_email"], by_sms=form.cleaned_data["by_sms"])
            messages.success(request, "Vos choix sont enregistrés.")
            return redirect("public:notification_preferences", token)
    else:
        form = PreferencesForm(initial={"by_email": usager.notify_by_email, "by_sms": usager.notify_by_sms})
    return render(
        request,
        "public/preferences.html",
        {"title": "Comment être prévenu de vos rendez-vous", "form": form, "first_name": usager.first_name},
    )
