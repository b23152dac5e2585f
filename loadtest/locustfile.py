"""The realistic mix of issue 22 against `make serve-prod` with the 200-agent benchmark espace
(`manage.py seed_loadtest`); `make loadtest` (scripts/loadtest) runs it headless and prints the
figures as JSON.

Users, by weight (locust spreads the users by these weights):
- members of the public (80): browse the week of free times (7 in 8 of their actions: 70 % of all
  actions) or book online (1 in 8: 10 %): week page, hold a time, « Vos coordonnées », the 6-digit
  code, confirmation. The code is read where the usager's mailbox would get it from: the delivery
  row the web process wrote (DATABASE_URL), as the e-mail backend of the run only writes files;
- agents (15): view the agenda week of 12 agents (LOADTEST_AGENDA_AGENTS), in a session the seed
  opened (agents log in once a day; LOADTEST_AGENT_LOGIN=1 logs in through the form instead, which
  costs a password hash each);
- API clients (5): each with its own token (300 calls per minute per token), list RDVs and slots.

Each member of the public stands for a stream of visitors: a booking journey starts a new visitor
(new cookies, new client address). The address travels in X-Forwarded-For from 127.0.0.1, which the
run lists in TRUSTED_PROXIES, as a reverse proxy would: rate limits and fairness limits apply per
visitor, as in production (one address for every simulated visitor would only measure the limits).

The users are FastHttpUsers (geventhttpclient): on these 2 cores the load generator shares the
machine with the server, and locust's requests-based client took about 2.4 ms of CPU per request
(6.3–7.3 s a minute at 100 users), against 1.4–1.6 ms with this one (4.1–4.7 s). Redirects are
followed, and `response.url` is the final address, as with requests.

Routes are named after their URL template (`public week`, `public book: hold`…), so the statistics
come per route. A 409 or 429 counts as a failure named « expected 409/429 »; anything else that is
not the expected page is an unexpected failure.

Environment: LOADTEST_DATA (the seed's JSON), LOADTEST_OUT (JSON written at the end: bookings the
clients saw confirmed, slots found taken), DATABASE_URL, LOADTEST_WAIT (think time « min,max » in
seconds, default « 1,4 »), LOADTEST_AGENDA_AGENTS (agents in each agenda week viewed, default 12: a
secretariat's view; 1 is an agent's own week).
"""

import itertools
import json
import os
import random
import re
import threading
import uuid
from datetime import date, timedelta

import psycopg
from locust import FastHttpUser, between, events, task
from requests.cookies import create_cookie

DATA = json.loads(open(os.environ["LOADTEST_DATA"]).read())  # noqa: SIM115 - read once at import
WAIT = [float(x) for x in os.environ.get("LOADTEST_WAIT", "1,4").split(",")]
DATABASE_URL = os.environ.get("DATABASE_URL", "")
OUT = os.environ.get("LOADTEST_OUT", "")
LOGIN_FORM = os.environ.get("LOADTEST_AGENT_LOGIN", "0") == "1"
AGENDA_AGENTS = int(os.environ.get("LOADTEST_AGENDA_AGENTS", "12"))

TIME_RE = re.compile(r'name="debut"\s+value="([^"]+)"')
DISPLAYED_RE = re.compile(r'name="affiche" value="([^"]*)"')
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CODE_RE = re.compile(r"\b(\d{6})\b")
FRENCH_ERROR = "Erreur inattendue"  # title of the 500 page
BOOKING_RE = re.compile(r"/reservation/([0-9a-f-]{36})/")

RESULTS = {"confirmed": [], "slot_taken": 0, "journeys": 0, "no_free_time": 0, "journey_errors": 0}
_lock = threading.Lock()
_tokens = itertools.count()
_logins = itertools.count()


def this_monday() -> date:
    return date.fromisoformat(DATA["this_monday"])


def busy_days() -> list[date]:
    first = date.fromisoformat(DATA["busy_month"])
    return [first + timedelta(days=i) for i in range(28) if (first + timedelta(days=i)).weekday() < 5]


def visitor_address() -> str:
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"  # noqa: S311


def expected_or_fail(response, ok_statuses=(200,), check=None) -> bool:
    """Mark the response (inside `catch_response`): 409/429 are « expected », other statuses and
    failed checks unexpected. True when the page is the one wanted."""
    if response.status_code == 0:  # no answer: refused or cut connection (a killed web process)
        response.failure(f"connection error ({type(response.error).__name__})")
        return False
    if response.status_code in (409, 429):
        response.failure(f"expected {response.status_code}")
        return False
    if response.status_code >= 500:
        # The French error page (rdv.www.views.errors), or something else (a traceback, a proxy's page).
        clean = FRENCH_ERROR in (response.text or "") and "Traceback" not in (response.text or "")
        response.failure(f"HTTP {response.status_code} ({'French error page' if clean else 'unexpected page'})")
        return False
    if response.status_code not in ok_statuses:
        response.failure(f"HTTP {response.status_code}")
        return False
    if check is not None and not check(response):
        response.failure(f"unexpected page ({response.url})")
        return False
    response.success()
    return True


class Mailbox:
    """Reads the last verification code sent to an address from the delivery rows."""

    _connection = None
    _lock = threading.Lock()

    @classmethod
    def code_for(cls, email: str) -> str | None:
        with cls._lock:
            try:
                if cls._connection is None or cls._connection.closed:
                    cls._connection = psycopg.connect(DATABASE_URL, autocommit=True, connect_timeout=3)
                row = cls._connection.execute(
                    "SELECT subject FROM outbox_delivery WHERE recipient = %s ORDER BY id DESC LIMIT 1", (email,)
                ).fetchone()
            except psycopg.Error:
                cls._connection = None
                return None
        match = CODE_RE.search(row[0]) if row else None
        return match.group(1) if match else None


def set_header(user, name: str, value: str) -> None:
    """A header of every request the user sends from now on (FastHttpUser's client)."""
    user.client.client.default_headers[name] = value


class PublicUser(FastHttpUser):
    weight = 80
    wait_time = between(*WAIT)

    def on_start(self):
        self.new_visitor()

    def new_visitor(self):
        self.client.cookiejar.clear()
        set_header(self, "X-Forwarded-For", visitor_address())
        self.pages_seen = 0

    def week_params(self) -> dict:
        monday = this_monday() + timedelta(weeks=random.randrange(4))  # noqa: S311
        return {"motif": DATA["motif_id"], "lieu": random.choice(DATA["lieu_ids"]), "semaine": monday.isoformat()}  # noqa: S311

    @task(7)
    def browse_week(self):
        self.pages_seen += 1
        if self.pages_seen > 20:  # another visitor
            self.new_visitor()
        with self.client.get(
            "/prendre-rdv/creneaux/", params=self.week_params(), name="public week", catch_response=True
        ) as response:
            expected_or_fail(response, check=lambda r: "/prendre-rdv/creneaux/" in r.url)

    @task(1)
    def book(self):
        self.new_visitor()
        with _lock:
            RESULTS["journeys"] += 1
        params = self.week_params()
        page = self.week_page(params)
        if page is None:
            return self.journey_error()
        times, displayed = page
        if not times:  # a week already over or full (this week on a Friday afternoon): the first week with
            # free times, where « Prochaine disponibilité » leads (the page without a week asked)
            page = self.week_page({key: value for key, value in params.items() if key != "semaine"})
            if page is None:
                return self.journey_error()
            times, displayed = page
        if not times:
            with _lock:
                RESULTS["no_free_time"] += 1
            return None
        form = {
            "motif": DATA["motif_id"],
            "lieu": params["lieu"],
            "debut": random.choice(times[:40]),  # noqa: S311 - the first days: some visitors meet
            "affiche": displayed.group(1) if displayed else "",
            "mode": "usager",
        }
        with self.client.post(
            "/prendre-rdv/reserver/", data=form, name="public book: hold", catch_response=True
        ) as response:
            if not expected_or_fail(response):
                return self.journey_error()
            if "/coordonnees/" not in response.url:
                return self.slot_taken(response)
            page = response.text
        email = f"visiteur-{uuid.uuid4().hex[:16]}@exemple.fr"
        details = {
            "csrfmiddlewaretoken": self.csrf(page),
            "first_name": "Camille",
            "last_name": f"Charge {random.randrange(10**6)}",  # noqa: S311
            "email": email,
            "phone": "",
        }
        with self.client.post(
            response.url,
            data=details,
            name="public book: details",
            catch_response=True,
            headers={"Referer": response.url},
        ) as response:
            if not expected_or_fail(response, check=lambda r: "/code/" in r.url):
                return self.journey_error()
            page, verify_url = response.text, response.url
        code = Mailbox.code_for(email)
        if code is None:
            with _lock:
                RESULTS["journey_errors"] += 1
            events.request.fire(
                request_type="DB",
                name="mailbox: code",
                response_time=0,
                response_length=0,
                exception=RuntimeError("no code"),
            )
            return None
        with self.client.post(
            verify_url,
            data={"csrfmiddlewaretoken": self.csrf(page), "code": code},
            name="public book: confirm",
            catch_response=True,
            headers={"Referer": verify_url},
        ) as response:
            if not expected_or_fail(response):
                return self.journey_error()
            if "/confirmation/" not in response.url:
                if "/creneaux/" in response.url:
                    return self.slot_taken(response)
                response.failure(f"unexpected page ({response.url})")
                return self.journey_error()
            booking = BOOKING_RE.search(response.url)
            with _lock:
                RESULTS["confirmed"].append(booking.group(1))
        return None

    def week_page(self, params: dict):
        """(the free times offered, the « affiche » field) of a booking journey's week page; None
        when the page is not the expected one."""
        with self.client.get(
            "/prendre-rdv/creneaux/", params=params, name="public book: week", catch_response=True
        ) as response:
            if not expected_or_fail(response):
                return None
            return TIME_RE.findall(response.text), DISPLAYED_RE.search(response.text)

    def csrf(self, page: str) -> str:
        match = CSRF_RE.search(page)
        return match.group(1) if match else next((c.value for c in self.client.cookiejar if c.name == "csrftoken"), "")

    def slot_taken(self, response):
        """Somebody else took the time first: the page says so (a normal outcome under load)."""
        with _lock:
            RESULTS["slot_taken"] += 1

    def journey_error(self):
        with _lock:
            RESULTS["journey_errors"] += 1


class AgentUser(FastHttpUser):
    weight = 15
    wait_time = between(*WAIT)

    def on_start(self):
        login = DATA["logins"][next(_logins) % len(DATA["logins"])]
        set_header(self, "X-Forwarded-For", visitor_address())
        if not LOGIN_FORM:  # already logged in today: the session the seed opened
            self.client.cookiejar.set_cookie(create_cookie("sessionid", login["session"]))
            return
        page = self.client.get("/connexion/", name="agent login page")
        match = CSRF_RE.search(page.text)
        with self.client.post(
            "/connexion/",
            data={
                "csrfmiddlewaretoken": match.group(1) if match else "",
                "username": login["email"],
                "password": login["password"],
            },
            name="agent login",
            catch_response=True,
            headers={"Referer": page.url},
        ) as response:
            expected_or_fail(response, check=lambda r: "/connexion/" not in r.url)

    @task
    def agenda_week(self):
        day = random.choice([this_monday(), *busy_days()])  # noqa: S311
        agents = random.sample(DATA["agent_ids"], AGENDA_AGENTS)
        with self.client.get(
            f"/organisations/{DATA['organisation_id']}/agenda/",
            params={"vue": "semaine", "date": day.isoformat(), "agents": ",".join(map(str, agents))},
            name="agent agenda week",
            catch_response=True,
        ) as response:
            expected_or_fail(response, check=lambda r: "/connexion/" not in r.url)


class ApiUser(FastHttpUser):
    weight = 5
    wait_time = between(*WAIT)

    def on_start(self):
        token = DATA["tokens"][next(_tokens) % len(DATA["tokens"])]
        set_header(self, "Authorization", f"Bearer {token}")
        set_header(self, "X-Forwarded-For", visitor_address())

    @task(3)
    def rdvs(self):
        day = random.choice(busy_days())  # noqa: S311
        with self.client.get(
            f"/api/v1/organisations/{DATA['organisation_id']}/rdvs",
            params={"starts_after": f"{day}T00:00:00+01:00", "starts_before": f"{day}T23:59:59+01:00"},
            name="api rdvs list",
            catch_response=True,
        ) as response:
            expected_or_fail(response)

    @task(2)
    def slots(self):
        start = this_monday() + timedelta(days=random.randrange(21))  # noqa: S311
        with self.client.get(
            f"/api/v1/organisations/{DATA['organisation_id']}/motifs/{DATA['motif_id']}/slots",
            params={"start_date": start.isoformat(), "end_date": (start + timedelta(days=6)).isoformat()},
            name="api slots",
            catch_response=True,
        ) as response:
            expected_or_fail(response)


@events.quitting.add_listener
def write_results(environment, **kwargs):
    if OUT:
        with _lock, open(OUT, "w") as handle:
            json.dump(RESULTS, handle)
