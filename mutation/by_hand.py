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

TIMEOUT = 300  # seconds per mutant
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


# Data retention (issue 22). RR/UR: the retention tests (the jobs; the usagers' rights and review).
# Not listed, equivalent: the channel filter of the usager's messages (a webhook's recipient is a URL,
# never an e-mail address or a phone number); `Q(created_at__gte=since)` in _own_activity (updated_at,
# auto_now, is never before created_at); the two `ctx.in_territory(usager)` of the policies (the
# organisation check that follows implies the espace); flagged_count's `if can_review` (review_scope
# is empty without it); the export's custom fields filtered by espace (keys are `cf_<pk>`, and a
# file's values only hold its espace's fields). Not listed either: the purge that never deletes its
# RDVs (it loops until the time budget).
RET = "rdv/retention/services.py"
RET_POLICIES = "rdv/retention/policies.py"
RET_SELECTORS = "rdv/retention/selectors.py"
RR = "tests/retention/test_retention.py"
UR = "tests/retention/test_usager_rights.py"
RRULES = "tests/retention/test_retention_rules.py"
RETENTION = [RRULES, RR, UR]
# SKIP LOCKED and the locks: PostgreSQL only (run with DATABASE_URL=postgres://…; skipped, so survived, on SQLite).
PG = [RR + "::test_two_runs_at_once_never_take_the_same_rdvs", RRULES]
MUTATIONS += [
    # Journal entries written before the rows go (the webhooks' `destroyed` bodies come from them).
    (RET, r'        log_action\(actor, "rdv.deleted", rdv,[^\n]*', "        pass", RETENTION),
    (RET, r'            log_action\(actor, "rdv.participant_deleted",[^\n]*', "            pass", RETENTION),
    (
        RET,
        r'        log_action\(\n            actor, "usager.updated", relative,[^\n]*\n        \)',
        "        pass",
        RETENTION,
    ),
    (RET, r'    log_action\(\n        actor,\n        "usager.deleted",(.|\n)*?\n    \)\n', "", RETENTION),
    (RET, r'    log_action\(\n        ctx.actor,\n        "usager.exported",(.|\n)*?\n    \)\n', "", RETENTION),
    (RET, r'    log_action\(\n        ctx.actor,\n        "usager.retention_kept",(.|\n)*?\n    \)\n', "", RETENTION),
    (RET, r"            log_action\(SYSTEM_ACTOR, action, territory,[^\n]*", "            pass", RETENTION),
    # What goes with a RDV or a file.
    (RET, r"    OnlineBooking.objects.filter\(rdv_id__in=ids\).delete\(\)", "    pass", RETENTION),
    (RET, r"content_type=ContentType.objects.get_for_model\(Rdv\), ", "", RETENTION),
    (RET, r"object_id__in=ids, lease_owner=\"\"", "object_id__in=ids", RETENTION),
    (RET, r"            participation.delete\(\)", "            pass", RETENTION),
    (RET, r"\.exclude\(usager=usager\)\.values_list", ".values_list", RETENTION),
    (
        RET,
        r"        Usager.objects.filter\(pk__in=\[relative.pk for relative in relatives\]\).update\(responsible=None\)",
        "        pass",
        RETENTION,
    ),
    (RET, r"    OnlineBooking.objects.filter\(usager=usager\).delete\(\)", "    pass", RETENTION),
    (RET, r"            territory_id=usager.territory_id,\n", "", RETENTION),
    (
        RET,
        r"            recipient__in=addresses,\n            lease_owner=\"\",\n",
        "            recipient__in=addresses,\n",
        RETENTION,
    ),
    (
        RET,
        r"    AuditLog.objects.filter\(object_type=Usager._meta.label, object_id=str\(usager.pk\)\).delete\(\)",
        "    pass",
        RETENTION,
    ),
    # Rights: the checks of the services (the pages check first), a raise dropped.
    (
        RET,
        r"    require\(policies.can_exercise_rights\(ctx, usager\), policies.SHARED_FILE_MESSAGE\)\n    if format",
        "    if format",
        RETENTION,
    ),
    (
        RET,
        r"    require\(policies.can_exercise_rights\(ctx, usager\), policies.SHARED_FILE_MESSAGE\)\n    usager =",
        "    usager =",
        RETENTION,
    ),
    (RET, r"    require\(policies.can_keep\(ctx, usager\)\)", "    pass", RETENTION),
    (RET, r'        raise DomainError\("invalid_format",[^\n]*', "        pass", RETENTION),
    (
        RET,
        r'        raise DomainError\(\n            "changed_meanwhile",(.|\n)*?\) from exc',
        "        raise",
        RETENTION,
    ),
    # The nightly rules: the filters' keywords, the activity's terms, SKIP LOCKED.
    (RET, r"\.filter\(retention_flagged_at__lte=due\)\n", "\n", RETENTION),
    (RET, r"                \.exclude\(pk__in=failed\)\n", "", RETENTION),
    (RET, r"        \| Q\(updated_at__gte=since\)\n", "", RETENTION),
    (RET, r"        \| Q\(retention_kept_at__gte=since\)\n", "", RETENTION),
    (RET, r"        \| Q\(Exists\(rdvs\)\)\n", "", RETENTION),
    (RET, r"        \| Q\(Exists\(links\)\)\n", "", RETENTION),
    (RET, r"Q\(rdv__ends_at__gte=since\) \| Q\(created_at__gte=since\)", "Q(rdv__ends_at__gte=since)", RETENTION),
    (RET, r"Q\(rdv__ends_at__gte=since\) \| Q\(created_at__gte=since\)", "Q(created_at__gte=since)", RETENTION),
    (
        RET,
        r"    return _own_activity\(since\) \| Q\(Exists\(relatives\)\)",
        "    return _own_activity(since)",
        RETENTION,
    ),
    (
        RET,
        r"responsible=OuterRef\(\"pk\"\)\)\.filter\(_own_activity\(since\)\)",
        'responsible=OuterRef("pk"))',
        RETENTION,
    ),
    (
        RET,
        r"(Rdv.objects.filter\(ends_at__lt=cutoff\)\n\s+\.order_by\(\"pk\"\)\n\s+)"
        r"\.select_for_update\(skip_locked=True, ",
        "\\1.select_for_update(",
        PG,
    ),
    (
        RET,
        r"                \.order_by\(\"pk\"\)\n                \.select_for_update\(skip_locked=True, ",
        '                .order_by("pk")\n                .select_for_update(',
        PG,
    ),
    (
        RET,
        r"        list\(Rdv.objects.select_for_update\(\).filter\(pk__in=rdv_ids\)[^\n]*# lock them",
        "        pass",
        PG,
    ),
    (RET, r"    if locked.retention_flagged_at is None:\n        return False\n", "", RETENTION),
    # Policies and selectors: the espace, the organisation, the flag.
    (RET_POLICIES, r" and usager_policies.is_member_of_organisation\(ctx, usager\)", "", RETENTION),
    (RET_POLICIES, r"    if ctx.organisation.pk not in member_of:\n        return False\n", "", RETENTION),
    (RET_POLICIES, r"\.filter\(retention_flagged_at__isnull=False\)", "", RETENTION),
    (RET_POLICIES, r"    if not can_review\(ctx\):\n        return Usager.objects.none\(\)\n", "", RETENTION),
    (
        RET_SELECTORS,
        r"    if not policies.can_exercise_rights\(ctx, usager\):\n        return DeletionPreview\(\)\n",
        "",
        RETENTION,
    ),
    (
        RET_SELECTORS,
        r"Participation.objects.filter\(usager=usager\).select_related",
        "Participation.objects.select_related",
        RETENTION,
    ),
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
            # A mutant that loops (a purge that never deletes) is killed by its timeout, as cosmic-ray's.
            result = subprocess.run([*PYTEST, *tests], capture_output=True, text=True, timeout=TIMEOUT)  # noqa: S603
            killed = result.returncode != 0
        except subprocess.TimeoutExpired:
            killed = True
        finally:
            path.write_text(original)
        survivors += not killed
        print(f"{'killed ' if killed else 'SURVIVED'} {module}: {pattern[:70]!r} -> {replacement[:30]!r}", flush=True)
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
