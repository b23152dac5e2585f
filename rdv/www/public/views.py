"""Views of the public pages: thin, they parse input, call rdv.online / rdv.bookings services and
selectors with a public context, and render templates of `public/` (own base template)."""

from django.shortcuts import render

from rdv.www.public.limits import rate_limited


@rate_limited()
def start(request):
    return render(request, "public/start.html", {"title": "Prendre rendez-vous"})
