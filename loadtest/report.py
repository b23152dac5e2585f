"""Merge what a load-test run left in its directory into ONE JSON document (scripts/loadtest):
locust's CSV statistics, the clients' results, the database check (manage.py loadtest_check) and the
/metrics scrapes before and after. Exit status 1 when something went wrong: unexpected failures,
double bookings, overbooked RDVs, lost bookings or deliveries not sent.

    python loadtest/report.py RUN_DIR --users 25 --duration 60s
"""

import argparse
import csv
import json
import os
import re
import sys
from pathlib import Path

SLOT_CACHE = re.compile(r"^rdv_slot_cache_requests_total\{([^}]*)\}\s+([0-9.eE+-]+)", re.MULTILINE)


def slot_cache_counts(text: str) -> dict[str, float]:
    counts: dict[str, float] = {}
    for labels, value in SLOT_CACHE.findall(text):
        result = re.search(r'result="([^"]*)"', labels)
        key = result.group(1) if result else ""
        counts[key] = counts.get(key, 0.0) + float(value)
    return counts


def slot_cache(before: str, after: str) -> dict | str:
    """Hit rate of the public week's slot cache over the run, or « n/a » without the counter."""
    if "rdv_slot_cache_requests_total" not in after:
        return "n/a"
    old, new = slot_cache_counts(before), slot_cache_counts(after)
    delta = {key: new[key] - old.get(key, 0.0) for key in new}
    total = sum(delta.values())
    return {
        "requests": {key: int(value) for key, value in delta.items()},
        "hit_rate": round(delta.get("hit", 0.0) / total, 3) if total else None,
    }


def _number(text: str):
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return int(value) if value.is_integer() else round(value, 1)


def locust_stats(prefix: Path) -> tuple[dict, dict]:
    routes, total = {}, {}
    with open(f"{prefix}_stats.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            figures = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": _number(row["Requests/s"]),
                "p50_ms": _number(row["50%"]),
                "p95_ms": _number(row["95%"]),
                "p99_ms": _number(row["99%"]),
                "max_ms": _number(row["Max Response Time"]),
            }
            if row["Name"] == "Aggregated":
                total = figures
            else:
                routes[f"{row['Name']}"] = figures
    return routes, total


def locust_failures(prefix: Path) -> dict:
    expected, unexpected = {}, {}
    path = Path(f"{prefix}_failures.csv")
    if path.exists():
        with open(path, newline="") as handle:
            for row in csv.DictReader(handle):
                error, count = row["Error"], int(row["Occurrences"])
                key = f"{row['Name']}: {error}"
                (expected if error.startswith("expected ") else unexpected)[key] = count
    return {
        "expected_409_429": sum(expected.values()),
        "unexpected": sum(unexpected.values()),
        "expected_detail": expected,
        "unexpected_detail": unexpected,
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)


def server_side(log: Path, offset: int = 0) -> dict:
    """Time spent inside Django per route (the product's access lines, logger rdv.request): without
    the time a request waited for a free web process, which locust's figures include. With the CPU
    time of the requests (their median and total per route): where the cores went."""
    durations: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    if log.exists():
        with log.open("rb") as file:
            file.seek(offset)  # after the warm-up's lines
            text = file.read().decode(errors="replace")
        for line in text.splitlines():
            if '"rdv.request"' not in line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("logger") == "rdv.request" and record.get("duration_ms") is not None:
                durations.setdefault(record.get("route") or "?", []).append(float(record["duration_ms"]))
                if record.get("cpu_ms") is not None:
                    cpu.setdefault(record.get("route") or "?", []).append(float(record["cpu_ms"]))
    routes = {}
    for route, values in sorted(durations.items()):
        routes[route] = {
            "requests": len(values),
            "p50_ms": percentile(values, 0.50),
            "p95_ms": percentile(values, 0.95),
            "p99_ms": percentile(values, 0.99),
        }
        if cpu.get(route):
            routes[route]["cpu_p50_ms"] = percentile(cpu[route], 0.50)
            routes[route]["cpu_total_s"] = round(sum(cpu[route]) / 1000, 2)
    return routes


def _offset(path: Path) -> int:
    try:
        return int(path.read_text())
    except (OSError, ValueError):
        return 0


def _cpu(path: Path) -> float | None:
    """CPU seconds written by scripts/loadtest (locust's), if any."""
    try:
        return float(path.read_text())
    except (OSError, ValueError):
        return None


def _kinds(path: Path) -> dict:
    try:
        lines = path.read_text().split("\n")
    except OSError:
        return {}
    return {kind: float(value) for kind, value in (line.split() for line in lines if line.strip())}


def cpu_by_kind(run: Path) -> dict:
    """CPU seconds of serve-prod's processes by kind (web, worker, scheduler) during the run, and the
    machine's busy CPU seconds (PostgreSQL and the load generator included) out of cores × seconds.
    A process that died during the run is missing from « after »: its share is not counted."""
    before, after = _kinds(run / "serve-kinds.before"), _kinds(run / "serve-kinds.after")
    split = {kind: round(after[kind] - before.get(kind, 0.0), 1) for kind in sorted(after)}
    try:
        start = [float(x) for x in (run / "machine.before").read_text().split()]
        end = [float(x) for x in (run / "machine.after").read_text().split()]
    except (OSError, ValueError):
        return split
    if len(start) == len(end) == 2 and end[1] > start[1]:
        split["machine_busy"] = round(end[0] - start[0], 1)
        split["machine_busy_share"] = round((end[0] - start[0]) / (end[1] - start[1]), 3)
    return split


def cpu_seconds(run: Path) -> dict:
    """serve-prod's CPU seconds (`serve`, the sum of its kinds, and `serve_<kind>`), locust's, the
    machine's (`machine_busy`, `machine_busy_share`) and what is neither serve-prod's nor locust's
    (`machine_other`: PostgreSQL, mostly, and the system)."""
    split = cpu_by_kind(run)
    kinds = {f"serve_{kind}": value for kind, value in split.items() if not kind.startswith("machine")}
    machine = {kind: value for kind, value in split.items() if kind.startswith("machine")}
    serve = round(sum(kinds.values()), 1) if kinds else None
    locust = _cpu(run / "locust.cpu")
    if serve is not None and locust is not None and "machine_busy" in machine:
        machine["machine_other"] = round(machine["machine_busy"] - serve - locust, 1)
    return {"serve": serve, "locust": locust, **kinds, **machine}


def build(run: Path, users: int, duration: str) -> dict:
    routes, total = locust_stats(run / "locust")
    failures = locust_failures(run / "locust")
    check = json.loads((run / "check.json").read_text())
    clients = json.loads((run / "results.json").read_text()) if (run / "results.json").exists() else {}
    before = (run / "metrics-before.txt").read_text() if (run / "metrics-before.txt").exists() else ""
    after = (run / "metrics-after.txt").read_text() if (run / "metrics-after.txt").exists() else ""
    deliveries = check["deliveries"]
    report = {
        "users": users,
        "duration": duration,
        "requests": total.get("requests", 0),
        "rps": total.get("rps"),
        "failures": failures,
        "routes": routes,
        "server_side_ms": server_side(run / "serve.log", _offset(run / "serve.log.offset")),
        "bookings": {
            "journeys": clients.get("journeys", 0),
            "confirmed_seen_by_clients": len(clients.get("confirmed", [])),
            "slot_taken": clients.get("slot_taken", 0),
            "no_free_time": clients.get("no_free_time", 0),
            "journey_errors": clients.get("journey_errors", 0),
            "online_rdvs_in_database": check["online_rdvs_created"],
        },
        "double_bookings": check["double_bookings"]["count"],
        "overbooked_rdvs": check["overbooked_rdvs"]["count"],
        "lost_bookings": check["bookings"]["lost"],
        "deliveries": deliveries,
        "lost_deliveries": deliveries["not_sent"],
        "slot_cache": slot_cache(before, after),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "setup": {
            "web_processes": int(os.environ.get("WEB_PROCESSES") or 0) or None,
            "slot_cache": (os.environ.get("SLOT_CACHE_URL") or "file (serve-prod's folder)").split(":")[0],
            "think_time_s": os.environ.get("LOADTEST_WAIT", "1,4"),
            "agenda_agents": int(os.environ.get("LOADTEST_AGENDA_AGENTS", "12")),
            "warmup": os.environ.get("WARMUP", "15s"),
            "cpu_seconds": cpu_seconds(run),
        },
    }
    if check["double_bookings"]["count"]:
        report["double_booking_examples"] = check["double_bookings"]["examples"]
    if check["bookings"]["lost"]:
        report["lost_booking_examples"] = check["bookings"]["examples"]
    report["ok"] = not (
        failures["unexpected"]
        or report["double_bookings"]
        or report["overbooked_rdvs"]
        or report["lost_bookings"]
        or report["lost_deliveries"]
        or not report["requests"]
    )
    return report


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("run", type=Path)
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--duration", required=True)
    args = parser.parse_args()
    report = build(args.run, args.users, args.duration)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
