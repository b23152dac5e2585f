"""Public booking, after a time was chosen on the week page (issue 18): hold the slot, then the last
steps of the journey (rdv.www.public.steps): « Vos coordonnées » (« Prescripteur » then
« Bénéficiaire » in prescripteur mode), the verification code; then the confirmation page and its
ICS file. Thin views over rdv.online.services; every rule is there or in
rdv.bookings.services."""

import datetime
import re
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.csrf import csrf_exempt
from dsfr.utils import dsfr_input_class_attr

from rdv.agendas.models import Lieu
from rdv.core.context import ActorKind, Context
from rdv.core.dates import DATE_MAX, DATE_MIN
from rdv.core.errors import DomainError
from rdv.core.phones import PHONE_INPUT_MAX_LENGTH
from rdv.core.ratelimit import client_ip
from rdv.motifs.models import LocationType, Motif
from rdv.online import services
from rdv.online.ics import rdv_ics
from rdv.online.models import BookingStatus, OnlineBooking
from rdv.online.selectors import ON_SITE
from rdv.usagers.models import Usager
from rdv.www.forms.base import ConditionallyRequired, DsfrForm, add_domain_error, max_length
from rdv.www.forms.usagers import custom_form_field
from rdv.www.public import steps
from rdv.www.public.limits import check, rate_limited, too_many_requests
from rdv.www.public.session import HOLDER_KEY, holder_key

MODE_SESSION_KEY = "public_mode"  # set by the search pages: "usager" or "prescripteur"
TOKENS_SESSION_KEY = "public_manage_tokens"  # booking public id -> manage token, for the confirmation page
MAX_ID = 2**63 - 1


# Shared helpers (the manage pages use them too) ------------------------------------------------


def error_page(request, title: str, message: str, *, status: int = 400, back_url: str = ""):
    return render(
        request,
        "public/booking/error.html",
        {"title": title, "message": message, "back_url": back_url or reverse("public:start")},
        status=status,
    )


def parse_id(raw) -> int | None:
    text = str(raw or "").strip()
    if not re.fullmatch(r"\d{1,19}", text):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def parse_instant(raw) -> datetime.datetime | None:
    """An ISO 8601 instant with its offset (2027-03-09T14:00:00+01:00); None when malformed,
    without offset or out of range."""
    text = str(raw or "").strip()
    if not text or len(text) > 40:
        return None
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None or not DATE_MIN.year <= moment.year <= DATE_MAX.year:
        return None
    return moment


def week_url(motif_id, lieu_id, moment: datetime.datetime | None, tz) -> str:
    """The search step's week page of this motif (and lieu) around `moment`; the start of the
    journey when that page does not exist."""
    try:
        base = reverse("public:week")
    except NoReverseMatch:
        return reverse("public:start")
    query = {"motif": motif_id or ""}
    if lieu_id:
        query["lieu"] = lieu_id
    if moment is not None:
        day = timezone.localtime(moment, tz).date()
        query["semaine"] = (day - timedelta(days=day.weekday())).isoformat()
    return f"{base}?{urlencode(query)}"


def slot_taken(request, booking_or_none, *, motif_id=None, lieu_id=None, moment=None, tz=None):
    """Back to the week with « Ce créneau vient d'être réservé, choisissez-en un autre »."""
    if booking_or_none is not None:
        motif_id, lieu_id, moment = booking_or_none.motif_id, booking_or_none.lieu_id, booking_or_none.starts_at
        tz = booking_or_none.organisation.territory.zone
    messages.error(request, services.SLOT_TAKEN)
    return redirect(week_url(motif_id, lieu_id, moment, tz or timezone.get_default_timezone()))


# How a status reads to the person the RDV is for (agents read « Annulé par l'usager »).
PUBLIC_STATUS = {"excused": "Annulé à votre demande", "revoked": "Annulé par le service"}


def rdv_facts(rdv) -> dict:
    """What the usager reads about a RDV (confirmation and manage pages): never agent names, never
    the Contexte."""
    territory = rdv.organisation.territory
    tz = territory.zone
    motif = rdv.motif
    facts = {
        "motif": motif.name,
        "when": services.french_moment(rdv.starts_at, tz),
        "clock": territory.clock_name,
        "duration": rdv.duration_minutes,
        "modality": motif.get_location_type_display(),
        "lieu": None,
        "map_url": "",
        "instructions_after": motif.instructions_after,
        "cancelled": rdv.is_cancelled,
        "status": PUBLIC_STATUS.get(rdv.status, rdv.get_status_display()),
        "organisation": rdv.organisation.name,
    }
    if motif.location_type == LocationType.PUBLIC_OFFICE and rdv.lieu_id:
        facts["lieu"] = rdv.lieu
        facts["map_url"] = services.map_url(rdv.lieu)
    return facts


def ics_response(rdv) -> HttpResponse:
    response = HttpResponse(rdv_ics(rdv), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="rendez-vous.ics"'
    return response


def _summary(booking: OnlineBooking) -> dict:
    territory = booking.organisation.territory
    tz = territory.zone
    now = timezone.now()
    return {
        "motif": booking.motif.name,
        "when": services.french_moment(booking.starts_at, tz),
        "clock": territory.clock_name,
        "lieu": booking.lieu if booking.motif.location_type == LocationType.PUBLIC_OFFICE else None,
        "modality": booking.motif.get_location_type_display(),
        "held_until": services.french_time(booking.hold_expires_at, tz) if booking.hold_expires_at > now else "",
        "prescripteur": booking.is_prescripteur,
    }


def _stepper(booking: OnlineBooking, step: str) -> dict:
    """The journey's step indicator (rdv.www.public.steps), continuing the search pages' count."""
    on_site = booking.motif.location_type in ON_SITE
    return {"stepper": steps.stepper(step, prescripteur=booking.is_prescripteur, on_site=on_site)}


def _booking_or_page(request, booking_id):
    """(booking, None) for the visitor's open booking, or (None, response) for every other case."""
    booking = services.booking_for(booking_id, request.session.get(HOLDER_KEY, ""))
    if booking is None:
        return None, error_page(request, "Réservation introuvable", services.BOOKING_CLOSED, status=404)
    if booking.status == BookingStatus.CONFIRMED:
        return None, redirect("public:booking_confirmation", booking.public_id)
    if booking.status == BookingStatus.SLOT_TAKEN:
        return None, slot_taken(request, booking)
    if not booking.is_open:
        return None, error_page(
            request,
            "Réservation expirée",
            services.BOOKING_CLOSED,
            status=410,
            back_url=week_url(
                booking.motif_id, booking.lieu_id, booking.starts_at, booking.organisation.territory.zone
            ),
        )
    return booking, None


# Hold ------------------------------------------------------------------------------------------


@csrf_exempt
@rate_limited("hold")
def hold(request):
    """POST from the week page: motif, lieu, debut, affiche, mode.

    Without CSRF check, so that a partner site's iframe can lead here: the week page may be framed
    by another site (rdv.www.public.embedding), where the browser neither stores nor sends the
    product's SameSite=Lax CSRF cookie, and its form opens this step in the whole window
    (`target="_top"`). A forged request could only hold a slot for a few minutes under the
    requester's own session (rate-limited like every hold); every later step (coordinates, code,
    confirmation) is a first-party page whose forms keep the CSRF check."""
    if request.method != "POST":
        return redirect("public:start")
    motif_id, lieu_raw = parse_id(request.POST.get("motif")), request.POST.get("lieu", "").strip()
    motif = Motif.objects.select_related("organisation__territory").filter(pk=motif_id).first() if motif_id else None
    if motif is None:
        return error_page(request, "Motif introuvable", "Ce motif n'existe pas ou n'est plus proposé.", status=404)
    territory = motif.organisation.territory
    lieu = None
    if lieu_raw:
        lieu_id = parse_id(lieu_raw)
        lieu = Lieu.objects.filter(pk=lieu_id).first() if lieu_id else None
        if lieu is None:
            return error_page(request, "Lieu introuvable", "Ce lieu n'existe pas ou n'est plus proposé.", status=404)
    start = parse_instant(request.POST.get("debut"))
    if start is None:
        return error_page(
            request,
            "Horaire invalide",
            "Cet horaire n'est pas valide : choisissez un créneau dans la semaine proposée.",
            back_url=week_url(motif.pk, lieu.pk if lieu else None, None, territory.zone),
        )
    mode = request.POST.get("mode") or request.session.get(MODE_SESSION_KEY) or "usager"
    kind = ActorKind.PRESCRIPTEUR if mode == "prescripteur" else ActorKind.USAGER
    ctx = Context.public(motif.organisation, kind=kind)
    try:
        booking = services.hold_slot(
            ctx,
            motif=motif,
            lieu=lieu,
            starts_at=start,
            holder_key=holder_key(request),
            displayed_at=parse_instant(request.POST.get("affiche")),
        )
    except DomainError as error:
        if error.code == "slot_taken":
            return slot_taken(
                request, None, motif_id=motif.pk, lieu_id=lieu.pk if lieu else None, moment=start, tz=territory.zone
            )
        return error_page(request, "Réservation impossible", error.message)
    step = "public:booking_prescripteur" if booking.is_prescripteur else "public:booking_details"
    return redirect(step, booking.public_id)


# Who -------------------------------------------------------------------------------------------


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


DATE_ERRORS = {"invalid": "Saisissez une date valide, par exemple 31/12/1990."}


class PrescripteurForm(DsfrForm):
    name = forms.CharField(
        label="Vos prénom et nom",
        max_length=max_length(OnlineBooking, "prescripteur_name"),
        error_messages={"required": "Indiquez vos prénom et nom."},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    structure = forms.CharField(
        label="Votre organisation ou structure",
        max_length=max_length(OnlineBooking, "prescripteur_structure"),
        error_messages={"required": "Indiquez votre organisation ou structure."},
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    email = forms.CharField(
        label="Votre adresse e-mail professionnelle",
        max_length=max_length(OnlineBooking, "prescripteur_email"),
        help_text="Le code de confirmation y est envoyé. Format attendu : prenom.nom@exemple.fr",
        error_messages={"required": services.EMAIL_FOR_CODE},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label="Votre téléphone",
        required=False,
        max_length=PHONE_INPUT_MAX_LENGTH,
        help_text="Par exemple 06 12 34 56 78",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )


class DetailsForm(ConditionallyRequired, DsfrForm):
    """The person the RDV is for (the visitor, or the beneficiary in prescripteur mode): the
    service re-checks everything (rdv.online.services.submit_details)."""

    first_name = forms.CharField(
        label="Prénom",
        max_length=max_length(Usager, "first_name"),
        error_messages={"required": "Le prénom est obligatoire."},
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label="Nom",
        max_length=max_length(Usager, "last_name"),
        error_messages={"required": "Le nom est obligatoire."},
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    birth_date = forms.DateField(
        label="Date de naissance", required=False, widget=_date_widget(), error_messages=DATE_ERRORS
    )
    email = forms.CharField(
        label="Adresse e-mail",
        required=False,
        max_length=max_length(Usager, "email"),
        help_text="Le code de confirmation y est envoyé. Format attendu : prenom.nom@exemple.fr",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label="Téléphone",
        required=False,
        max_length=PHONE_INPUT_MAX_LENGTH,
        help_text="Numéro français (06 12 34 56 78) ou international (+32 470 12 34 56)",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    for_relative = forms.BooleanField(
        label="Je prends rendez-vous pour un proche",
        required=False,
        # The proche's fieldset (details.html), shown while this box is ticked (www/reveal.js).
        widget=forms.CheckboxInput(attrs={"aria-controls": "champs-proche", "data-reveals": ""}),
    )
    relative_first_name = forms.CharField(
        label="Prénom du proche", required=False, max_length=max_length(Usager, "first_name")
    )
    relative_last_name = forms.CharField(
        label="Nom du proche", required=False, max_length=max_length(Usager, "last_name")
    )
    relative_birth_date = forms.DateField(
        label="Date de naissance du proche", required=False, widget=_date_widget(), error_messages=DATE_ERRORS
    )

    RELATIVE_FIELDS = ("for_relative", "relative_first_name", "relative_last_name", "relative_birth_date")
    RELATIVE_NAMES = ("relative_first_name", "relative_last_name")

    def __init__(self, booking: OnlineBooking, *args, **kwargs):
        territory = booking.organisation.territory
        self.custom_fields = services.online_custom_fields(territory)
        super().__init__(*args, **kwargs)
        if not booking.is_prescripteur:  # the code goes by e-mail, or by SMS to a mobile number
            self.fields["email"].help_text = (
                "Le code de confirmation y est envoyé (sans adresse e-mail, il est envoyé par SMS au mobile "
                "indiqué). Format attendu : prenom.nom@exemple.fr"
            )
        else:
            self.fields["email"].help_text = "Le bénéficiaire reçoit la confirmation à cette adresse."
            self.fields["email"].label = "Adresse e-mail du bénéficiaire"
            self.fields["phone"].label = "Téléphone du bénéficiaire"
        for name in ("email", "phone"):  # the DSFR form cached its bound fields in __init__
            self._bound_fields_cache.pop(name, None)
        show_birth_date = territory.usager_field_visible("birth_date")
        if not show_birth_date:
            del self.fields["birth_date"]
        if booking.is_prescripteur or not services.relatives_allowed(territory):
            for name in self.RELATIVE_FIELDS:
                del self.fields[name]
        else:
            if not show_birth_date:
                del self.fields["relative_birth_date"]
            # Required once the box is ticked; `clean` checks them then, with their own messages.
            self.show_as_required(self.RELATIVE_NAMES)
        for field in self.custom_fields:
            self.fields[field.key] = custom_form_field(field)
            dsfr_input_class_attr(self[field.key])

    def clean(self):
        data = super().clean()
        if data.get("for_relative"):
            for name, message in (
                ("relative_first_name", "Le prénom du proche est obligatoire."),
                ("relative_last_name", "Le nom du proche est obligatoire."),
            ):
                if not (data.get(name) or "").strip() and name not in self.errors:
                    self.add_error(name, message)
        return data

    def person(self) -> dict:
        return {
            name: self.cleaned_data.get(name) for name in ("first_name", "last_name", "email", "phone", "birth_date")
        }

    def custom_values(self) -> dict:
        return {field.key: self.cleaned_data.get(field.key) for field in self.custom_fields}

    def relative(self) -> dict | None:
        if not self.cleaned_data.get("for_relative"):
            return None
        return {
            "first_name": self.cleaned_data.get("relative_first_name"),
            "last_name": self.cleaned_data.get("relative_last_name"),
            "birth_date": self.cleaned_data.get("relative_birth_date"),
        }

    def identity_fields(self):
        return [
            self[name] for name in ("first_name", "last_name", "birth_date", "email", "phone") if name in self.fields
        ]

    def relative_fields(self):
        return [self[name] for name in self.RELATIVE_FIELDS[1:] if name in self.fields]

    def custom_bound_fields(self):
        return [self[field.key] for field in self.custom_fields]


def _initial_details(booking: OnlineBooking) -> dict:
    details = booking.details or {}
    initial = dict(details.get("person", {}))
    initial.update(details.get("custom", {}))
    relative = details.get("relative")
    if relative:
        initial["for_relative"] = True
        initial.update({f"relative_{k}": v for k, v in relative.items()})
    return initial


def _add_error(form, error: DomainError) -> None:
    if error.field == "relative_email" or error.field == "relative_phone":
        error.field = None
    add_domain_error(form, error)


def _code_limited(request):
    decision = check(request, "code")
    return None if decision.allowed else too_many_requests(request, decision)


@rate_limited("pages")
def prescripteur(request, booking_id):
    booking, response = _booking_or_page(request, booking_id)
    if response is not None:
        return response
    if not booking.is_prescripteur:
        return redirect("public:booking_details", booking.public_id)
    initial = {
        "name": booking.prescripteur_name,
        "structure": booking.prescripteur_structure,
        "email": booking.prescripteur_email,
        "phone": booking.prescripteur_phone,
    }
    form = PrescripteurForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.submit_prescripteur(booking, form.cleaned_data, holder_key=holder_key(request))
        except DomainError as error:
            add_domain_error(form, error)
        else:
            return redirect("public:booking_details", booking.public_id)
    return render(
        request,
        "public/booking/prescripteur.html",
        {
            "title": "Prescripteur",
            "form": form,
            "booking": booking,
            "summary": _summary(booking),
            **_stepper(booking, steps.PRESCRIPTEUR),
        },
    )


@rate_limited("pages")
def details(request, booking_id):
    booking, response = _booking_or_page(request, booking_id)
    if response is not None:
        return response
    if booking.is_prescripteur and not booking.prescripteur_email:
        return redirect("public:booking_prescripteur", booking.public_id)
    form = DetailsForm(booking, request.POST if request.method == "POST" else None, initial=_initial_details(booking))
    if request.method == "POST":
        limited = _code_limited(request)
        if limited is not None:
            return limited
        if form.is_valid():
            try:
                services.submit_details(
                    booking,
                    form.person(),
                    holder_key=holder_key(request),
                    custom_values=form.custom_values(),
                    relative=form.relative(),
                )
            except DomainError as error:
                _add_error(form, error)
            else:
                return redirect("public:booking_verify", booking.public_id)
    title = "Bénéficiaire" if booking.is_prescripteur else "Vos coordonnées"
    return render(
        request,
        "public/booking/details.html",
        {
            "title": title,
            "form": form,
            "booking": booking,
            "summary": _summary(booking),
            **_stepper(booking, steps.DETAILS),
        },
    )


# Verify ------------------------------------------------------------------------------------------


class CodeForm(DsfrForm):
    code = forms.CharField(
        label="Code de confirmation",
        max_length=12,
        help_text="6 chiffres, reçus par e-mail",
        error_messages={"required": services.CODE_FORMAT},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )

    def clean_code(self):
        code = re.sub(r"\s", "", self.cleaned_data["code"])
        if not re.fullmatch(r"\d{6}", code):
            raise forms.ValidationError(services.CODE_FORMAT)
        return code


def _mask(recipient: str) -> str:
    """« j•••@exemple.fr » or « le mobile •• •• •• 56 78 »: the page says where the code went
    without showing the address or the number."""
    local, _, domain = recipient.partition("@")
    if domain:
        return f"{local[:1]}•••@{domain}"
    digits = "".join(ch for ch in recipient if ch.isdigit())
    return f"votre mobile (•• •• •• {digits[-4:-2]} {digits[-2:]})" if len(digits) >= 4 else ""


@rate_limited("pages")
def verify(request, booking_id):
    booking, response = _booking_or_page(request, booking_id)
    if response is not None:
        return response
    if booking.status != BookingStatus.CODE_SENT:
        return redirect("public:booking_details", booking.public_id)
    form = CodeForm(request.POST if request.method == "POST" and "renvoyer" not in request.POST else None)
    if request.method == "POST":
        limited = _code_limited(request)
        if limited is not None:
            return limited
        if "renvoyer" in request.POST:
            try:
                services.resend_code(booking, holder_key=holder_key(request))
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, "Un nouveau code vous a été envoyé. Le précédent ne fonctionne plus.")
            return redirect("public:booking_verify", booking.public_id)
        if form.is_valid():
            try:
                booking = services.confirm_booking(
                    booking, form.cleaned_data["code"], holder_key=holder_key(request), ip=client_ip(request)
                )
            except DomainError as error:
                if error.code == "slot_taken":
                    return slot_taken(request, booking)
                if error.code in ("booking_closed", "not_found"):
                    return _booking_or_page(request, booking_id)[1] or redirect("public:start")
                if error.code in ("contact_limit", "ip_limit"):
                    return error_page(request, "Réservation impossible", error.message, status=403)
                add_domain_error(form, error)
            else:
                token = getattr(booking, "manage_token", "")
                if token:
                    tokens = request.session.get(TOKENS_SESSION_KEY, {})
                    tokens[str(booking.public_id)] = token
                    request.session[TOKENS_SESSION_KEY] = tokens
                return redirect("public:booking_confirmation", booking.public_id)
    return render(
        request,
        "public/booking/verify.html",
        {
            "title": "Confirmez avec le code reçu",
            "form": form,
            "booking": booking,
            "summary": _summary(booking),
            "recipient": _mask(booking.code_recipient),
            **_stepper(booking, steps.CODE),
        },
    )


# Confirmation ------------------------------------------------------------------------------------


def _confirmed(request, booking_id):
    booking = services.booking_for(booking_id, request.session.get(HOLDER_KEY, ""))
    if booking is None or booking.status != BookingStatus.CONFIRMED or booking.rdv is None:
        return None
    return booking


@rate_limited("pages")
def confirmation(request, booking_id):
    booking = _confirmed(request, booking_id)
    if booking is None:
        return _booking_or_page(request, booking_id)[1] or error_page(
            request, "Réservation introuvable", services.BOOKING_CLOSED, status=404
        )
    token = request.session.get(TOKENS_SESSION_KEY, {}).get(str(booking.public_id), "")
    return render(
        request,
        "public/booking/confirmation.html",
        {
            "title": "Rendez-vous confirmé",
            "booking": booking,
            "facts": rdv_facts(booking.rdv),
            "manage_url": services.manage_url(token) if token else "",
            "email": booking.contact_email,
        },
    )


@rate_limited("pages")
def ics(request, booking_id):
    booking = _confirmed(request, booking_id)
    if booking is None:
        return error_page(request, "Réservation introuvable", services.BOOKING_CLOSED, status=404)
    return ics_response(booking.rdv)
