from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_POST

from rdv.accounts import selectors as account_selectors
from rdv.accounts import services
from rdv.accounts.policies import can_log_in
from rdv.core.errors import DomainError
from rdv.www.forms.accounts import AcceptInvitationForm, LoginForm, PasswordResetForm, SetPasswordForm
from rdv.www.forms.base import add_domain_error, submitted


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    extra_context = {"title": "Connexion"}


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, "Vous êtes déconnecté(e).")
    return redirect("home")


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/emails/password_reset.txt"
    subject_template_name = "accounts/emails/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")
    extra_context = {"title": "Mot de passe oublié"}


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"
    extra_context = {"title": "Mot de passe oublié"}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = SetPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")
    extra_context = {"title": "Nouveau mot de passe"}


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
    extra_context = {"title": "Mot de passe modifié"}


def _invalid(request, error: DomainError):
    return render(
        request, "accounts/invitation_invalid.html", {"title": "Invitation inutilisable", "error": error}, status=400
    )


def accept_invitation(request, token):
    """Public page of an invitation link: create the account, or join with an existing one."""
    try:
        invitation = services.find_invitation(token)
    except DomainError as error:
        return _invalid(request, error)
    existing = account_selectors.invited_account(invitation)
    context = {"title": "Rejoindre l'espace", "invitation": invitation}
    if existing is not None:
        if not request.user.is_authenticated or request.user.pk != existing.pk:
            context["login_url"] = reverse("login") + "?next=" + request.path
            context["wrong_account"] = request.user.is_authenticated
            return render(request, "accounts/invitation_login.html", context)
        if request.method == "POST":
            try:
                services.accept_invitation_as_existing_agent(token, request.user)
            except DomainError as error:
                return _invalid(request, error)
            messages.success(request, f"Vous avez rejoint l'espace {invitation.territory.name}.")
            return redirect("home")
        return render(request, "accounts/invitation_confirm.html", context)

    form = AcceptInvitationForm(submitted(request))
    if request.method == "POST" and form.is_valid():
        try:
            agent = services.accept_invitation_as_new_agent(
                token, form.cleaned_data["first_name"], form.cleaned_data["last_name"], form.cleaned_data["password1"]
            )
        except DomainError as error:
            if error.code.startswith("invitation_") or error.code == "account_exists":
                return _invalid(request, error)
            add_domain_error(form, error)
        else:
            if request.user.is_authenticated:
                logout(request)
            if not can_log_in(agent):  # only "intervenant" roles: listed in agendas, no login
                messages.info(
                    request,
                    "Votre compte est créé. Vous êtes intervenant(e) : vous apparaissez dans les agendas "
                    "de l'organisation mais n'avez pas d'accès en ligne.",
                )
                return redirect("home")
            login(request, agent, backend="rdv.accounts.backends.AgentBackend")
            messages.success(
                request, f"Bienvenue ! Votre compte est créé et vous avez rejoint l'espace {invitation.territory.name}."
            )
            return redirect("home")
    context["form"] = form
    return render(request, "accounts/invitation_accept.html", context)
