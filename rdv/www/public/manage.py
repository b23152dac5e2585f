"""The manage link /r/<token> (issue 18): the first three letters of the last name, then the RDV,
« Annuler » and « Déplacer ». Thin views over rdv.online.services (which call
rdv.bookings.services with the usager's public context).

No enumeration: an unknown, revoked or expired token shows the same form as a valid one, and wrong
letters get the same answer as an invalid token. Tries are limited per IP and token, and per token."""

import datetime
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone

from rdv.core.dates import french_date, parse_day
from rdv.core.errors import DomainError
from rdv.core.ratelimit import hit
from rdv.online import services
from rdv.www.forms.base import DsfrForm
from rdv.www.public.booking import ics_response, parse_instant, rdv_facts
from rdv.www.public.limits import check, rate_limited, too_many_requests

UNLOCKED_SESSION_KEY = "public_manage_unlocked"  # ids of the manage links this visitor opened
TOKEN_TRIES = (20, 3600)  # letters tried per token, whatever the IP
LINK_REFUSED = (
    "Ces informations ne permettent pas d'ouvrir un rendez-vous. Vérifiez les trois premières lettres du nom "
    "et le lien reçu par e-mail : un lien ancien ou annulé n'est plus valide."
)


class LettersForm(DsfrForm):
    lettres = forms.CharField(
        label="Les trois premières lettres du nom de famille",
        max_length=50,
        help_text="Le nom de la personne qui a rendez-vous, par exemple « dup » pour Dupont",
        error_messages={"required": "Saisissez les trois premières lettres du nom de famille."},
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )


def _unlocked(request, token: str):
    """The valid link of this token if this visitor has opened it in their session."""
    link = services.manage_link(token)
    if link is not None and link.pk in request.session.get(UNLOCKED_SESSION_KEY, []):
        return link
    return None


def _rules(link) -> dict:
    """What the page offers, and why not."""
    rdv = link.rdv
    territory = rdv.organisation.territory
    motif = rdv.motif
    can_cancel, can_move = services.can_cancel_online(link), services.can_move_online(link)
    cancel_note = move_note = ""
    if not rdv.is_cancelled:
        if not can_cancel:
            cancel_note = (
                "L'annulation en ligne n'est pas proposée pour ce motif : contactez le service."
                if not motif.usager_can_cancel
                else f"L'annulation en ligne est possible jusqu'à {territory.online_cancel_min_hours} heures avant "
                "le rendez-vous : contactez le service."
            )
        if not can_move:
            if not motif.usager_can_move:
                move_note = "Le déplacement en ligne n'est pas proposé pour ce motif."
            elif rdv.collective:
                move_note = "Un rendez-vous collectif ne peut pas être déplacé en ligne."
            else:
                move_note = (
                    f"Le déplacement en ligne est possible jusqu'à {territory.online_move_min_hours} heures avant "
                    "le rendez-vous (et pour un rendez-vous pris par vous en ligne) : contactez le service."
                )
    return {"can_cancel": can_cancel, "can_move": can_move, "cancel_note": cancel_note, "move_note": move_note}


@rate_limited("pages")
def manage(request, token):
    link = _unlocked(request, token)
    if link is not None:
        return render(
            request,
            "public/manage/show.html",
            {"title": "Votre rendez-vous", "token": token, "facts": rdv_facts(link.rdv), **_rules(link)},
        )
    form = LettersForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        for decision in (
            check(request, "manage", key=services.token_digest(token)),
            hit(f"public:manage-token:{services.token_digest(token)}", limit=TOKEN_TRIES[0], period=TOKEN_TRIES[1]),
        ):
            if not decision.allowed:
                return too_many_requests(request, decision)
        if form.is_valid():
            link = services.manage_link(token)
            if services.letters_match(link, form.cleaned_data["lettres"]):
                request.session[UNLOCKED_SESSION_KEY] = [*request.session.get(UNLOCKED_SESSION_KEY, []), link.pk][-20:]
                return redirect("public:manage", token)
            form.add_error("lettres", LINK_REFUSED)
    return render(request, "public/manage/unlock.html", {"title": "Accéder à votre rendez-vous", "form": form})


def _locked_redirect(token):
    return redirect("public:manage", token)


@rate_limited("pages")
def cancel(request, token):
    link = _unlocked(request, token)
    if link is None:
        return _locked_redirect(token)
    if not services.can_cancel_online(link):
        messages.error(request, "Ce rendez-vous ne peut pas être annulé en ligne.")
        return redirect("public:manage", token)
    if request.method == "POST":
        try:
            services.cancel_online(link)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Votre rendez-vous est annulé.")
        return redirect("public:manage", token)
    return render(
        request,
        "public/manage/cancel.html",
        {
            "title": "Annuler le rendez-vous",
            "token": token,
            "facts": rdv_facts(link.rdv),
            "warning": link.rdv.motif.cancellation_warning,
        },
    )


def _monday(day: datetime.date) -> datetime.date:
    return day - timedelta(days=day.weekday())


@rate_limited("pages")
def move(request, token):
    """A week of free times of the same motif, agents and lieu; a time → a confirmation step → the
    move (atomic, rdv.bookings.services.move_rdv)."""
    link = _unlocked(request, token)
    if link is None:
        return _locked_redirect(token)
    if not services.can_move_online(link):
        messages.error(request, "Ce rendez-vous ne peut pas être déplacé en ligne.")
        return redirect("public:manage", token)
    rdv = link.rdv
    territory = rdv.organisation.territory
    tz = territory.zone
    if request.method == "POST":
        start = parse_instant(request.POST.get("debut"))
        if start is None:
            messages.error(request, "Cet horaire n'est pas valide : choisissez un créneau dans la semaine proposée.")
            return redirect("public:manage_move", token)
        if request.POST.get("confirmer"):
            try:
                services.move_online(link, start)
            except DomainError as error:
                messages.error(request, error.message)
                return redirect("public:manage_move", token)
            messages.success(request, f"Votre rendez-vous est déplacé au {services.french_moment(start, tz)}.")
            return redirect("public:manage", token)
        return render(
            request,
            "public/manage/move_confirm.html",
            {
                "title": "Confirmer le déplacement",
                "token": token,
                "facts": rdv_facts(rdv),
                "new_when": services.french_moment(start, tz),
                "debut": start.isoformat(),
            },
        )
    today = timezone.localdate(timezone=tz)
    last_day = timezone.localtime(timezone.now() + timedelta(minutes=rdv.motif.max_booking_delay_minutes), tz).date()
    first_week, last_week = _monday(today), _monday(last_day)
    week = parse_day(request.GET.get("semaine"))
    week = _monday(week) if week else first_week
    week = min(max(week, first_week), last_week)
    slots = services.move_slots(link, week, week + timedelta(days=6))
    days = []
    for offset in range(7):
        day = week + timedelta(days=offset)
        times = [
            {"label": services.french_time(slot.start, tz), "value": slot.start.astimezone(tz).isoformat()}
            for slot in slots
            if timezone.localtime(slot.start, tz).date() == day
        ]
        days.append({"label": french_date(day, year=False), "times": times})
    return render(
        request,
        "public/manage/move.html",
        {
            "title": "Déplacer le rendez-vous",
            "token": token,
            "facts": rdv_facts(rdv),
            "days": days,
            "week_label": f"Semaine du {french_date(week)}",
            "previous_week": (week - timedelta(days=7)).isoformat() if week > first_week else "",
            "next_week": (week + timedelta(days=7)).isoformat() if week < last_week else "",
            "empty": not slots,
            "clock": territory.clock_name,
        },
    )


@rate_limited("pages")
def ics(request, token):
    link = _unlocked(request, token)
    if link is None:
        return _locked_redirect(token)
    return ics_response(link.rdv)
