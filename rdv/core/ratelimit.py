"""Rate limits shared by every web process: fixed-window counters in the database.

    decision = hit("public-ip:203.0.113.7", limit=60, period=60)
    if not decision.allowed: answer 429 with `Retry-After: decision.retry_after`

One statement per hit (an upsert that returns the new count: `INSERT … ON CONFLICT DO UPDATE …
RETURNING`, on PostgreSQL and SQLite alike), so concurrent hits are all counted. No maintained
library keeps its counters in the SQL database (django-ratelimit and `limits` need a cache
server), and the product needs no other server. Keys never hold secrets; an IP address is kept
only for the window and purged afterwards (`purge_rate_counters`).
"""

import functools
import ipaddress
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from rdv.core.models import RateCounter


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # seconds until the window ends (meaningful when refused)

    def headers(self) -> dict[str, str]:
        """The `RateLimit-*` headers (IETF draft), plus `Retry-After` when refused."""
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.retry_after),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


def _window(now: datetime, period: int) -> datetime:
    epoch = math.floor(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % period, UTC)


def local_day(now: datetime, zone) -> tuple[datetime, datetime]:
    """The start and the end of `now`'s calendar day in `zone` (23 or 25 hours on DST days)."""
    day = now.astimezone(zone).date()
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _bounds(now: datetime, period: int, day_in) -> tuple[datetime, datetime]:
    if day_in is not None:
        return local_day(now, day_in)
    start = _window(now, period)
    return start, start + timedelta(seconds=period)


def hit(key: str, *, limit: int, period: int, cost: int = 1, now: datetime | None = None, day_in=None) -> Decision:
    """Count one hit of `key` in its current window of `period` seconds; allowed while the count
    stays within `limit`. `day_in`: a time zone; the window is then the calendar day there (an
    espace's « per day » limits reset at its midnight, not at midnight UTC)."""
    if limit < 0 or period <= 0:
        raise ValueError("limit must be >= 0 and period > 0")
    now = now or timezone.now()
    start, end = _bounds(now, period, day_in)
    table = RateCounter._meta.db_table
    sql = (
        f"INSERT INTO {table} (key, window_start, count) VALUES (%s, %s, %s) "  # noqa: S608 - table name only
        f"ON CONFLICT (key, window_start) DO UPDATE SET count = {table}.count + EXCLUDED.count "
        "RETURNING count"
    )
    params = [key[:200], connection.ops.adapt_datetimefield_value(start), cost]
    own = _commits_without_waiting()
    with _client_side_cursor() if own else connection.cursor() as cursor:
        if own:
            # Its own commit, which does not wait for the disk: a page view never waits for a flush of
            # PostgreSQL's journal (hundreds of milliseconds when the disk is busy). A crash loses at
            # most the counts of its last fraction of a second. SET LOCAL applies to the implicit
            # transaction of this one query string.
            cursor.execute(f"SET LOCAL synchronous_commit TO OFF; {sql}", params)
            cursor.nextset()
        else:  # inside the caller's transaction: counted, or rolled back, with it
            cursor.execute(sql, params)
        (count,) = cursor.fetchone()
    retry_after = max(1, math.ceil((end - now).total_seconds()))
    return Decision(allowed=count <= limit, limit=limit, remaining=max(0, limit - count), retry_after=retry_after)


def _commits_without_waiting() -> bool:
    """Whether a hit is its own transaction on PostgreSQL: then its commit need not wait for the disk."""
    return connection.vendor == "postgresql" and connection.get_autocommit()  # False inside atomic()


def _client_side_cursor():
    """A cursor that sends the values inside the query string (client-side binding), as one string
    of two statements needs: Django's default cursor with psycopg, but not the connection's own
    when the server binds the values (DATABASE_PREPARE_THRESHOLD, config/settings/base.py)."""
    if not connection.settings_dict.get("OPTIONS", {}).get("server_side_binding"):
        return connection.cursor()
    from django.db.backends.postgresql.base import Cursor  # psycopg 3's ClientCursor, as Django uses it

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        return connection._prepare_cursor(Cursor(connection.connection))  # wrapped as Django's cursors


def peek(key: str, *, limit: int, period: int, now: datetime | None = None) -> Decision:
    """The decision for `key` now, without counting a hit."""
    now = now or timezone.now()
    start = _window(now, period)
    count = RateCounter.objects.filter(key=key[:200], window_start=start).values_list("count", flat=True).first() or 0
    retry_after = max(1, math.ceil((start + timedelta(seconds=period) - now).total_seconds()))
    return Decision(allowed=count < limit, limit=limit, remaining=max(0, limit - count), retry_after=retry_after)


def purge_rate_counters(older_than: timedelta = timedelta(days=2)) -> int:
    """Delete windows that started more than `older_than` ago (periodic task)."""
    deleted, _ = RateCounter.objects.filter(window_start__lt=timezone.now() - older_than).delete()
    return deleted


@functools.lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _ip(address: str):
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        return None


def _trusted(address: str, networks) -> bool:
    ip = _ip(address)
    return ip is not None and any(ip in network for network in networks)


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, unless it is one of `settings.TRUSTED_PROXIES` (the
    reverse proxies); then the right-most address of X-Forwarded-For that is not a trusted proxy
    (a client can write anything to the left of what its proxies append, never to the right)."""
    remote = request.META.get("REMOTE_ADDR", "")
    networks = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ()))
    if networks and _trusted(remote, networks):
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        for hop in reversed(hops):
            ip = _ip(hop)
            if ip is None:
                break
            if not any(ip in network for network in networks):
                return hop
    return remote or "inconnue"


def axes_client_ip(request) -> str | None:
    """django-axes' client address (AXES_CLIENT_IP_CALLABLE): the same as `client_ip`, but None
    when the request has none (axes stores it in an address column; « inconnue » is not one)."""
    if request is None:
        return None
    address = client_ip(request)
    return address if _ip(address) is not None else None
