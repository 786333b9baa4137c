"""Response times of one endpoint's answered checks, read straight from the checks table: what
a performance objective counts, without decoding whole checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from probe.sla import to_ms as _ms

from .records import DOWN_CODE

if TYPE_CHECKING:
    from .store import Store


def response_times(store: Store, endpoint: int | str, since: float, until: float) -> list[tuple[float, float]]:
    """(at in epoch seconds, total_ms) of the endpoint's up and degraded checks with a time,
    in [since, until), oldest first; by name, every site's checks pooled."""
    ids = store._series_ids(endpoint)
    if not ids:
        return []
    rows = store.db.conn.execute(
        f"SELECT at, total FROM checks WHERE endpoint_id IN ({', '.join('?' * len(ids))}) AND at >= ? AND at < ?"
        " AND state != ? AND total IS NOT NULL ORDER BY at",
        (*ids, _ms(since), _ms(until), DOWN_CODE),
    )
    return [(at / 1000, total / 10) for at, total in rows]
