"""The faults of the drill (scripts/fault-drill), injected while the load test runs, and the drill's
summary.

    python loadtest/faults.py inject        # SERVE_HOOK of scripts/loadtest: writes RUN_DIR/drill.json
    python loadtest/faults.py summary RUN_DIR REPORT.json   # one JSON document, exit 1 on failure

`inject`, with RUN_DIR, PORT, SERVE_PID (serve-prod's process), DATABASE_URL, PGDATA and PGBIN (the
drill's PRIVATE PostgreSQL server, never the shared one) in the environment:
1. kill -9 one gunicorn web process: gunicorn starts another;
2. kill -9 the delivery worker (db_worker), then the scheduler: serve-prod starts them again;
3. stop PostgreSQL for OUTAGE_SECONDS (20): meanwhile a public page and an agent page answer the
   French error page (500, no traceback) and /healthz answers 503 JSON « down »;
4. start PostgreSQL: /healthz answers 200 again within RECOVERY_TIMEOUT (60 s), the pages too, and
   nothing committed before the outage is missing (RDVs booked online, deliveries).
"""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import psutil
import psycopg
import requests

FRENCH_ERROR = "Erreur inattendue"
OUTAGE_SECONDS = int(os.environ.get("OUTAGE_SECONDS", "20"))
RECOVERY_TIMEOUT = int(os.environ.get("RECOVERY_TIMEOUT", "60"))
RESPAWN_TIMEOUT = 20


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def find(serve_pid: int, needle: str) -> list[psutil.Process]:
    found = []
    for process in descendants(serve_pid):
        try:
            wanted = process.name().startswith("python") or "gunicorn" in needle
            if wanted and needle in " ".join(process.cmdline()):
                found.append(process)
        except psutil.NoSuchProcess:
            continue
    return found


def processes(serve_pid: int) -> dict:
    """How many web processes, delivery workers and schedulers serve-prod runs now."""
    return {
        "gunicorn_web_processes": len(gunicorn_workers(serve_pid)[1]),
        "db_worker": len(find(serve_pid, "db_worker")),
        "scheduler": len(find(serve_pid, "run_scheduler")),
    }


def processes_running(counts: dict) -> bool:
    """A delivery worker and the scheduler are running (gunicorn respawns its own processes)."""
    return counts.get("db_worker", 0) >= 1 and counts.get("scheduler", 0) >= 1


def gunicorn_workers(serve_pid: int) -> tuple[psutil.Process | None, list[psutil.Process]]:
    gunicorns = find(serve_pid, "gunicorn")
    pids = {p.pid for p in gunicorns}
    masters = [p for p in gunicorns if p.ppid() not in pids]
    if not masters:
        return None, []
    return masters[0], [p for p in gunicorns if p.ppid() == masters[0].pid]


def kill_and_wait(serve_pid: int, name: str, lookup) -> dict:
    """kill -9 the first process `lookup()` returns; ok when another one runs within RESPAWN_TIMEOUT."""
    before = lookup()
    if not before:
        return {"fault": f"kill -9 {name}", "ok": False, "error": "process not found"}
    victim = before[0]
    victim.kill()
    log(f"kill -9 {name} (pid {victim.pid})")
    started = time.monotonic()
    while time.monotonic() - started < RESPAWN_TIMEOUT:
        time.sleep(0.5)
        now = [p for p in lookup() if p.pid != victim.pid and p.is_running()]
        if len(now) >= len(before):
            seconds = round(time.monotonic() - started, 1)
            log(f"{name} running again (pid {now[0].pid}) after {seconds} s")
            return {"fault": f"kill -9 {name}", "ok": True, "killed_pid": victim.pid, "respawned_after_s": seconds}
    return {"fault": f"kill -9 {name}", "ok": False, "killed_pid": victim.pid, "error": "not restarted"}


def counts(database_url: str) -> dict | None:
    try:
        with psycopg.connect(database_url, connect_timeout=3) as connection:
            online = connection.execute("SELECT count(*) FROM bookings_rdv WHERE created_by = 'usager'").fetchone()[0]
            confirmed = connection.execute(
                "SELECT count(*) FROM online_onlinebooking WHERE status = 'confirmed' AND rdv_id IS NOT NULL"
            ).fetchone()[0]
            deliveries = connection.execute("SELECT count(*) FROM outbox_delivery").fetchone()[0]
    except psycopg.Error as error:
        log(f"counts: {error}")
        return None
    return {"online_rdvs": online, "confirmed_online_bookings": confirmed, "deliveries": deliveries}


def page_check(session: requests.Session, url: str, *, during_outage: bool) -> dict:
    try:
        response = session.get(url, timeout=30, allow_redirects=False)
    except requests.RequestException as error:
        return {"url": url, "ok": False, "error": type(error).__name__}
    text = response.text
    result = {"url": url, "status": response.status_code}
    if during_outage:
        result["french_error_page"] = FRENCH_ERROR in text and 'lang="fr"' in text
        result["traceback"] = "Traceback" in text
        result["ok"] = response.status_code in (500, 503) and result["french_error_page"] and not result["traceback"]
    else:
        result["ok"] = response.status_code == 200
    return result


def healthz(base: str) -> tuple[int | None, dict | None]:
    try:
        response = requests.get(f"{base}/healthz", timeout=10)
    except requests.RequestException:
        return None, None
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, None


def agent_session(base: str, data: dict) -> requests.Session:
    session = requests.Session()
    session.headers["X-Forwarded-For"] = "10.250.0.1"
    page = session.get(f"{base}/connexion/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    login = data["logins"][-1]
    session.post(
        f"{base}/connexion/",
        data={
            "csrfmiddlewaretoken": token.group(1) if token else "",
            "username": login["email"],
            "password": login["password"],
        },
        headers={"Referer": f"{base}/connexion/"},
        timeout=30,
    )
    return session


def pg_ctl(*args: str) -> None:
    command = ["runuser", "-u", "postgres", "--", f"{os.environ['PGBIN']}/pg_ctl", "-D", os.environ["PGDATA"], *args]
    subprocess.run(command, check=True, capture_output=True, timeout=120)  # noqa: S603 - our own fixed command


def inject() -> int:
    run = Path(os.environ["RUN_DIR"])
    serve_pid = int(os.environ["SERVE_PID"])
    base = f"http://127.0.0.1:{os.environ['PORT']}"
    database_url = os.environ["DATABASE_URL"]
    data = json.loads((run / "data.json").read_text())
    drill: dict = {"faults": []}
    time.sleep(float(os.environ.get("FAULT_START_DELAY", "10")))

    agent = agent_session(base, data)
    org = data["organisation_id"]
    agent_url = f"{base}/organisations/{org}/agenda/?vue=semaine&date={data['this_monday']}"
    public_url = f"{base}/prendre-rdv/creneaux/?motif={data['motif_id']}&lieu={data['lieu_ids'][0]}"
    public = requests.Session()
    public.headers["X-Forwarded-For"] = "10.250.0.2"
    drill["before"] = [page_check(agent, agent_url, during_outage=False)]

    drill["faults"].append(kill_and_wait(serve_pid, "gunicorn web process", lambda: gunicorn_workers(serve_pid)[1]))
    time.sleep(3)
    drill["faults"].append(kill_and_wait(serve_pid, "db_worker", lambda: find(serve_pid, "db_worker")))
    time.sleep(3)
    drill["faults"].append(kill_and_wait(serve_pid, "scheduler", lambda: find(serve_pid, "run_scheduler")))
    time.sleep(3)

    drill["counts_before_outage"] = counts(database_url)
    log("stopping PostgreSQL")
    pg_ctl("-m", "fast", "-w", "stop")
    stopped = time.monotonic()
    checks = []
    for _ in range(2):
        time.sleep(3)
        status, body = healthz(base)
        checks.append(
            {
                "url": f"{base}/healthz",
                "status": status,
                "body_status": body and body.get("status"),
                "ok": status == 503 and bool(body) and body.get("status") == "down",
            }
        )
        checks.append(page_check(public, public_url, during_outage=True))
        checks.append(page_check(agent, agent_url, during_outage=True))
    drill["outage_checks"] = checks
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))
    log("starting PostgreSQL")
    pg_ctl("-w", "start", "-l", f"{os.environ['PGDATA']}/server.log")
    restarted = time.monotonic()
    drill["outage_seconds"] = round(restarted - stopped, 1)
    recovered = None
    while time.monotonic() - restarted < RECOVERY_TIMEOUT:
        status, body = healthz(base)
        if status == 200 and body and body.get("status") in ("ok", "degraded"):
            recovered = round(time.monotonic() - restarted, 1)
            drill["healthz_after"] = body
            break
        time.sleep(1)
    drill["recovered_after_s"] = recovered
    log(f"healthz ok after {recovered} s")
    drill["after"] = [
        page_check(public, public_url, during_outage=False),
        page_check(agent, agent_url, during_outage=False),
    ]
    drill["counts_after_recovery"] = counts(database_url)
    # The worker and the scheduler may be between two restarts of serve-prod's supervisor (1 s) when
    # the database comes back: wait for them as for /healthz, up to RECOVERY_TIMEOUT.
    waited = time.monotonic()
    drill["processes_after"] = processes(serve_pid)
    while not processes_running(drill["processes_after"]) and time.monotonic() - waited < RECOVERY_TIMEOUT:
        time.sleep(0.5)
        drill["processes_after"] = processes(serve_pid)
    drill["processes_back_after_s"] = round(time.monotonic() - waited, 1)
    (run / "drill.json").write_text(json.dumps(drill, indent=2))
    return 0


def summary(run: Path, report_path: Path) -> dict:
    report = json.loads(report_path.read_text()) if report_path.exists() and report_path.stat().st_size else {}
    drill = json.loads((run / "drill.json").read_text()) if (run / "drill.json").exists() else {}
    before, after = drill.get("counts_before_outage") or {}, drill.get("counts_after_recovery") or {}
    unexpected = (report.get("failures") or {}).get("unexpected_detail", {})
    unclean = {key: n for key, n in unexpected.items() if "unexpected page" in key and "HTTP 5" in key}
    french = sum(n for key, n in unexpected.items() if "French error page" in key)
    connection = sum(n for key, n in unexpected.items() if "connection error" in key or "HTTP" not in key)
    process_counts = drill.get("processes_after", {})
    checks = {
        "faults_recovered": bool(drill.get("faults")) and all(f["ok"] for f in drill["faults"]),
        "outage_pages_french": bool(drill.get("outage_checks")) and all(c["ok"] for c in drill["outage_checks"]),
        "healthz_recovered": drill.get("recovered_after_s") is not None,
        "pages_after_recovery": bool(drill.get("after")) and all(c["ok"] for c in drill["after"]),
        "no_unclean_error_page": not unclean,
        # The outage must have something to lose: bookings confirmed before it.
        "bookings_before_outage": before.get("online_rdvs", 0) > 0,
        "nothing_lost_in_outage": bool(before)
        and bool(after)
        and all(after.get(key, -1) >= value for key, value in before.items()),
        "processes_running": processes_running(process_counts),
        "no_double_booking": report.get("double_bookings") == 0 and report.get("overbooked_rdvs") == 0,
        "no_lost_booking": report.get("lost_bookings") == 0,
        "no_lost_delivery": report.get("lost_deliveries") == 0,
    }
    return {
        "ok": all(checks.values()),
        "checks": checks,
        "users": report.get("users"),
        "duration": report.get("duration"),
        "requests": report.get("requests"),
        "failures_during_drill": {
            "expected_409_429": (report.get("failures") or {}).get("expected_409_429"),
            "french_error_pages": french,
            "connection_or_client_errors": connection,  # a killed web process's requests, codes unread
            "unclean_error_pages": unclean,
            "other": {
                key: n
                for key, n in unexpected.items()
                if key not in unclean
                and "French error page" not in key
                and "connection error" not in key
                and ("HTTP" in key or "unexpected page" in key)
            },
        },
        "faults": drill.get("faults"),
        "outage_seconds": drill.get("outage_seconds"),
        "outage_checks": drill.get("outage_checks"),
        "recovered_after_s": drill.get("recovered_after_s"),
        "counts_before_outage": before,
        "counts_after_recovery": after,
        "processes_after": process_counts,
        "processes_back_after_s": drill.get("processes_back_after_s"),
        "bookings": report.get("bookings"),
        "double_bookings": report.get("double_bookings"),
        "lost_bookings": report.get("lost_bookings"),
        "deliveries": report.get("deliveries"),
        "lost_deliveries": report.get("lost_deliveries"),
        "load_average": [round(value, 2) for value in os.getloadavg()],
    }


def main() -> int:
    if sys.argv[1:2] == ["inject"]:
        return inject()
    if sys.argv[1:2] == ["summary"]:
        result = summary(Path(sys.argv[2]), Path(sys.argv[3]))
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0 if result["ok"] else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
