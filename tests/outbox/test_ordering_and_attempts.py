"""Rows of one ordering key are sent one after the other (the events of one record to one webhook
endpoint); every attempt leaves a log row with what the other side answered; outcome hooks."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_tasks import default_task_backend

from rdv.outbox import channels, services
from rdv.outbox.models import AttemptOutcome, Channel, DeliveryAttempt, Status
from rdv.outbox.services import claim, enqueue_email

NOW = timezone.datetime(2027, 3, 9, 8, 0, tzinfo=timezone.get_default_timezone())


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def empty_task_recorder():
    default_task_backend.results.clear()
    yield


@pytest.fixture
def scripted(monkeypatch):
    """An e-mail sender answering from a script keyed by recipient (the edge of the world):
    an exception is raised, anything else returned; every call is recorded."""
    script: dict[str, list] = {}
    calls: list[str] = []

    def sender(delivery):
        calls.append(delivery.subject)
        answers = script.get(delivery.recipient, [])
        answer = answers.pop(0) if answers else "ok"
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setitem(channels._SENDERS, Channel.EMAIL, sender)
    return script, calls


def make(subject, key="", to="si@exemple.fr", **kwargs):
    return enqueue_email(to=to, subject=subject, text="x", ordering_key=key, **kwargs)


def wake_ups() -> list[int]:
    return [result.args[0] for result in default_task_backend.results if result.task.name == "deliver"]


def test_a_later_row_of_the_same_key_waits_for_the_earlier_one_to_be_sent(db, scripted, frozen_time):
    script, calls = scripted
    script["si@exemple.fr"] = [channels.TemporaryError("HTTP 503", status_code=503)]
    first, second = make("1", "rdv:7"), make("2", "rdv:7")
    other = make("autre", "rdv:8", to="autre@exemple.fr")

    assert services.run_due_deliveries() == {Status.FAILING: 1, Status.SENT: 1}
    assert calls == ["1", "autre"]  # « 2 » is held back by the failing « 1 », « autre » is not
    second.refresh_from_db()
    assert second.status == Status.PENDING and second.attempts == 0
    assert claim(delivery_id=second.pk) is None

    frozen_time.shift(timedelta(hours=1))
    default_task_backend.results.clear()
    assert services.run_due_deliveries() == {Status.SENT: 2}
    assert calls == ["1", "autre", "1", "2"]
    for row in (first, second, other):
        row.refresh_from_db()
        assert row.status == Status.SENT


def test_once_a_row_is_sent_the_next_row_of_its_key_is_woken(db, scripted):
    first, second = make("1", "rdv:7"), make("2", "rdv:7")
    default_task_backend.results.clear()
    assert services.deliver_one(first.pk) == Status.SENT
    assert wake_ups() == [second.pk]
    assert services.deliver_one(second.pk) == Status.SENT


def test_an_abandoned_row_no_longer_holds_back_its_key(db, scripted):
    script, calls = scripted
    script["si@exemple.fr"] = [channels.PermanentError("HTTP 400", status_code=400)]
    make("1", "rdv:7"), make("2", "rdv:7")
    assert services.run_due_deliveries() == {Status.ABANDONED: 1, Status.SENT: 1}
    assert calls == ["1", "2"]


def test_rows_without_a_key_are_never_held_back(db, scripted):
    script, calls = scripted
    script["si@exemple.fr"] = [channels.TemporaryError("down")]
    make("1"), make("2")
    assert services.run_due_deliveries() == {Status.FAILING: 1, Status.SENT: 1}
    assert calls == ["1", "2"]


def test_a_row_written_to_send_later_is_not_due_before(db, scripted, frozen_time):
    _, calls = scripted
    later = make("plus tard", send_after=NOW + timedelta(minutes=5))
    assert later.next_attempt_at == NOW + timedelta(minutes=5)
    assert services.run_due_deliveries() == {}
    frozen_time.shift(timedelta(minutes=5))
    assert services.run_due_deliveries() == {Status.SENT: 1}
    assert calls == ["plus tard"]


def test_every_attempt_is_logged_with_the_answer_and_its_duration(db, scripted, frozen_time):
    script, _ = scripted
    script["si@exemple.fr"] = [
        channels.TemporaryError(
            "HTTP 500", status_code=500, response_excerpt="Erreur interne https://si.exemple.fr/?token=abc123"
        ),
        channels.SendReport(provider_id="id-1", status_code=204, response_excerpt=""),
    ]
    delivery = make("1")
    services.run_due_deliveries()
    frozen_time.shift(timedelta(hours=1))
    services.run_due_deliveries()
    attempts = list(DeliveryAttempt.objects.filter(delivery=delivery).order_by("number"))
    assert [(a.number, a.outcome, a.status_code) for a in attempts] == [
        (1, AttemptOutcome.TEMPORARY, 500),
        (2, AttemptOutcome.SENT, 204),
    ]
    assert attempts[0].error == "HTTP 500"
    assert attempts[0].response_excerpt == "Erreur interne https://si.exemple.fr/?token=***"  # secrets masked
    assert attempts[0].started_at == NOW and attempts[1].started_at == NOW + timedelta(hours=1)
    delivery.refresh_from_db()
    assert delivery.provider_id == "id-1"


def test_outcome_hooks_hear_of_every_attempt_and_cannot_break_the_record(db, scripted, monkeypatch):
    script, _ = scripted
    script["si@exemple.fr"] = [channels.PermanentError("HTTP 410", status_code=410)]
    heard = []

    def hook(delivery, status, report):
        heard.append((delivery.subject, status, getattr(report, "status_code", None)))
        raise RuntimeError("a broken hook")

    monkeypatch.setitem(channels._OUTCOME_HOOKS, Channel.EMAIL, [hook])
    delivery = make("1")
    assert services.deliver_one(delivery.pk) == Status.ABANDONED
    assert heard == [("1", Status.ABANDONED, 410)]
    delivery.refresh_from_db()
    assert delivery.status == Status.ABANDONED and delivery.last_error == "HTTP 410"
