"""The steps of the public booking journey, for the one DSFR step indicator (fr-stepper) that the
search pages (rdv.www.public.search) and the booking pages (rdv.www.public.booking) share.

One list, numbered from « Où ? » to « Code de confirmation »; the confirmation page that follows is
the journey's result, not a step. A prescripteur gives their own details before the beneficiary's.
Motifs without a place (phone, visio, home) have no « Où exactement ? » step: once such a motif is
chosen, the journey counts one step fewer, so the numbers a visitor sees always follow each other
(« Étape 3 sur 5 — Quand ? » after « Étape 2 sur 6 — Quel rendez-vous ? »). Before the motif is
chosen the count is that of the longest journey."""

WHERE = "where"
MOTIF = "motif"
LIEU = "lieu"
WHEN = "when"
PRESCRIPTEUR = "prescripteur"
DETAILS = "details"
CODE = "code"

_TITLES = {
    WHERE: "Où ?",
    MOTIF: "Quel rendez-vous ?",
    LIEU: "Où exactement ?",
    WHEN: "Quand ?",
    PRESCRIPTEUR: "Prescripteur",
    DETAILS: "Vos coordonnées",
    CODE: "Code de confirmation",
}
_ORDER = (WHERE, MOTIF, LIEU, WHEN, PRESCRIPTEUR, DETAILS, CODE)
BENEFICIARY_TITLE = "Bénéficiaire"  # the details step of a prescripteur: the person booked for


def journey(*, prescripteur: bool = False, on_site: bool = True) -> list[tuple[str, str]]:
    """The steps (key, French title) of a journey: usager or prescripteur, with or without a lieu."""
    steps = []
    for key in _ORDER:
        if (key == PRESCRIPTEUR and not prescripteur) or (key == LIEU and not on_site):
            continue
        title = BENEFICIARY_TITLE if key == DETAILS and prescripteur else _TITLES[key]
        steps.append((key, title))
    return steps


def stepper(current: str, *, prescripteur: bool = False, on_site: bool = True) -> dict:
    """What the step indicator shows on the page of step `current`: its number, the count, its
    title and the next step's title (empty on the last step)."""
    steps = journey(prescripteur=prescripteur, on_site=on_site)
    keys = [key for key, _ in steps]
    if current not in keys:  # a lieu page for a motif without a place cannot exist: count it anyway
        steps = journey(prescripteur=prescripteur)
        keys = [key for key, _ in steps]
    index = keys.index(current)
    return {
        "number": index + 1,
        "count": len(steps),
        "title": steps[index][1],
        "next": steps[index + 1][1] if index + 1 < len(steps) else "",
    }
