"""The mutations cosmic-ray has no operator for (a `raise` removed, a filter keyword dropped, a
`log_action` call dropped, a condition dropped), applied one at a time to a copy of the checkout;
each must make its tests fail. Run from the root of a checkout that is NOT where you work:

    .venv/bin/python mutation/by_hand.py                 # all
    .venv/bin/python mutation/by_hand.py notifications   # those whose module path contains a word

A module is `rdv/webhooks/<name>.py` unless given as a path.
"""

import re
import subprocess
import sys
from pathlib import Path

PYTEST = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--no-migrations"]
T = "tests/webhooks/"
PAGES = "tests/www/test_webhook_pages.py"
JOURNAL = T + "test_endpoint_journal.py"
RIGHTS = T + "test_endpoint_rights.py"
REPLAY = T + "test_replay_rules.py"
# Not listed, equivalent: create_endpoint's first « déjà un webhook vers cette URL » raise (the unique
# constraint's IntegrityError raises the same DomainError).

# (file, regex of the line to change, replacement, tests that must fail)
MUTATIONS = [
    ("sender", r'raise DestinationRefused\("L\'URL ne doit pas contenir[^\n]*', "pass", [T + "test_sender_rules.py"]),
    (
        "sender",
        r"        if not _allowed\(address\):\n            raise DestinationRefused\(",
        "        if not _allowed(address):\n            (lambda *args, **kwargs: None)(",
        [T + "test_sender_rules.py"],
    ),
    (
        "sender",
        r"    if status == 410:\n        raise PermanentError",
        "    if status == 410:\n        (lambda *args, **kwargs: None)",
        [T + "test_sender_rules.py"],
    ),
    (
        "events",
        r"organisation_id__in=organisation_ids, active=True",
        "organisation_id__in=organisation_ids",
        [T + "test_events.py"],
    ),
    ("events", r"organisation_id__in=organisation_ids, active=True", "active=True", [T + "test_events.py"]),
    (
        "events",
        r"organisation__territory_id=entry.territory_id, active=True",
        "organisation__territory_id=entry.territory_id",
        [T + "test_event_rules.py"],
    ),
    (
        "events",
        r"territory_roles__territory_id=organisation.territory_id, is_active=True",
        "territory_roles__territory_id=organisation.territory_id",
        [T + "test_event_rules.py"],
    ),
    (
        "events",
        r"roles__access_level=AccessLevel.ADMIN, is_active=True",
        "roles__access_level=AccessLevel.ADMIN",
        [T + "test_event_rules.py"],
    ),
    (
        "events",
        r"roles__organisation=organisation, roles__access_level=AccessLevel.ADMIN",
        "roles__organisation=organisation",
        [T + "test_event_rules.py"],
    ),
    (
        "events",
        r"Delivery.objects.filter\(webhook_event__endpoint=endpoint, status__in",
        "Delivery.objects.filter(status__in",
        [T + "test_event_rules.py"],
    ),
    (
        "events",
        r"roles = roles.filter\(organisation__territory_id=territory_id\)\n    return",
        "pass\n    return",
        [T + "test_event_rules.py"],
    ),
    (
        "policies",
        r"return WebhookEndpoint.objects.filter\(organisation__territory=ctx.territory\)",
        "return WebhookEndpoint.objects.all()",
        [RIGHTS, PAGES],
    ),
    (
        "policies",
        r"return WebhookEvent.objects.filter\(endpoint__organisation__territory=ctx.territory\)",
        "return WebhookEvent.objects.all()",
        [RIGHTS, PAGES],
    ),
    (
        "services",
        r'raise DomainError\("inactive", "Ce webhook est désactivé[^\n]*\n    if not _replay',
        "pass\n    if not _replay",
        [PAGES],
    ),
    (
        "services",
        r'raise DomainError\("invalid", "La fin de la période doit suivre son début."\)',
        "pass",
        [REPLAY, PAGES],
    ),
    (
        "services",
        r"Delivery.objects.filter\(pk=delivery.pk, status__in=REPLAYABLE\)",
        "Delivery.objects.filter(pk=delivery.pk)",
        [T + "test_delivery.py::test_a_failed_event_is_replayed_with_the_same_webhook_id", PAGES],
    ),
    ("services", r"webhook_event__created_at__gte=since,", "", [REPLAY, PAGES]),
    ("services", r"webhook_event__created_at__lt=until,", "", [REPLAY, PAGES]),
    (
        "services",
        r"webhook_event__endpoint=endpoint,\n        webhook_event__created_at__gte",
        "webhook_event__created_at__gte",
        [REPLAY, PAGES],
    ),
]
for action in ("created", "updated", "secret_rotated", "grace_ended", "deleted", "test_sent", "backfill_started"):
    MUTATIONS.append(("services", r'log_action\(ctx.actor, "webhook.' + action + r'".*', "pass", [JOURNAL]))
MUTATIONS.append(("services", r'log_action\(ctx.actor, "webhook.replayed", event.endpoint.*', "pass", [JOURNAL]))
MUTATIONS.append(("services", r'log_action\(ctx.actor, "webhook.replayed", endpoint,.*', "pass", [JOURNAL]))

# Notifications (issue 20).
N = "tests/notifications/"
EMAILS = N + "test_usager_emails.py"
RULES = [EMAILS, N + "test_reminder_rules.py", N + "test_usager_notification_rules.py"]
REMINDERS = "rdv/notifications/reminders.py"
EVENTS = "rdv/notifications/events.py"
MOVES = [N + "test_usager_moves_and_restores.py"]
MUTATIONS += [
    (REMINDERS, r"\.exclude\(rdv__status__in=CANCELLED_STATUSES\)", "", RULES),
    (REMINDERS, r"rdv__created_at__lt=F\(\"rdv__starts_at\"\) - ahead,", "", RULES),
    (REMINDERS, r"rdv__starts_at__gt=now,", "", RULES),
    (REMINDERS, r"rdv__motif__visibility=Visibility.VISIBLE_AND_NOTIFIED,", "", RULES),
    (
        REMINDERS,
        r"\.exclude\(rdv__reminders__kind=kind, rdv__reminders__starts_at=F\(\"rdv__starts_at\"\)\)",
        "",
        RULES,
    ),
    (REMINDERS, r"rdv__reminders__kind=kind, ", "", RULES),
    (EVENTS, r"expires_at=rdv.starts_at,  # never sent", "# never sent", RULES),
    (EVENTS, r"expires_at=rdv.starts_at,\n            \)", ")", RULES),
    (EVENTS, r"rdv.motif.visibility == Visibility.VISIBLE_AND_NOTIFIED and ", "", RULES),
    (EVENTS, r" and rdv.starts_at > \(now or timezone.now\(\)\)", "", RULES),
    (EVENTS, r"if recipient.notify_by_sms and recipient.phone", "if recipient.phone", RULES),
    (EVENTS, r"email and recipient.notify_by_email and recipient.email", "email and recipient.email", RULES),
    (EVENTS, r"and recipient.email\):", "):", RULES),
    (EVENTS, r" and not \(kind == \"cancelled\" and cancelled_by_usager\)", "", RULES),
    (EVENTS, r"        cancel_waiting_reminders\(rdv\)\n", "        pass\n", RULES),
    (EVENTS, r"status__in=\(Status.PENDING, Status.FAILING\),", "", RULES),
    (EVENTS, r"purpose=Purpose.REMINDER,\n        content_type", "content_type", RULES),
    (EVENTS, r"object_id=rdv.pk,", "", RULES),
    # A move of the agents alone, a cancellation undone (usager_kind).
    (EVENTS, r'"moved" if any\(name in changes for name in USAGER_FACTS\) else None', '"moved"', MOVES),
    (EVENTS, r"rdv.status == RdvStatus.UNKNOWN and ", "", MOVES),
    (EVENTS, r" and was in CANCELLED_LABELS", "", MOVES),
]


def main(words: list[str]) -> int:
    survivors = 0
    for module, pattern, replacement, tests in MUTATIONS:
        path = Path(module if "/" in module else f"rdv/webhooks/{module}.py")
        if words and not any(word in str(path) for word in words):
            continue
        original = path.read_text()
        mutated, count = re.subn(pattern, replacement, original, count=1)
        if count != 1:
            print(f"NOT APPLIED {module}: {pattern}")
            survivors += 1
            continue
        compile(mutated, str(path), "exec")  # a mutant that does not compile would be "killed" for nothing
        try:
            path.write_text(mutated)
            result = subprocess.run([*PYTEST, *tests], capture_output=True, text=True)  # noqa: S603 (our own list)
        finally:
            path.write_text(original)
        killed = result.returncode != 0
        survivors += not killed
        print(f"{'killed ' if killed else 'SURVIVED'} {module}: {pattern[:70]!r} -> {replacement[:30]!r}", flush=True)
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
