"""A posting process for the concurrency and crash tests:

    python -m tests.billing.poster DB_URL NOW_MS SLOW_S

Posts every subscription once from a fixed usage source (``QUANTITIES`` below) that
takes ``SLOW_S`` per query, like a busy ClickHouse.
"""

from __future__ import annotations

import sys
import time

from billing import db
from billing.posting import PeriodQuantities, post_once
from tests.billing.helpers import ms

NOVEMBER = ms("2026-11-01T00:00:00+00:00")
QUANTITIES = {"billing_sessions": 1234, "voice_sessions": 250, "agents": 4}


class SlowSource:
    def __init__(self, slow_s: float) -> None:
        self.slow_s = slow_s

    def period_quantities(
        self, app_id: str, start_ms: int, end_ms: int, tz: str
    ) -> PeriodQuantities:
        time.sleep(self.slow_s)
        return {NOVEMBER: dict(QUANTITIES)}


def main() -> None:
    url, now, slow = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    result = post_once(db.open_store(url), SlowSource(slow), now)
    print(result.entries)


if __name__ == "__main__":
    main()
