"""Sessions decoded column-wise from their JSON equal the record-by-record path, and any
value the checked decoder refuses makes the whole block fall back (None)."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.billing_session import KINDS, BillingSession, decode, encode
from schemas.fields import ValidationError
from sinks.base import Batch
from sinks.clickhouse.rows import sessions_arrow, sessions_from_json, to_columns

text = st.text(max_size=40)
sessions = st.builds(
    BillingSession,
    session_id=text,
    kind=st.sampled_from(KINDS),
    app_id=text,
    conversation_id=text,
    segment=st.integers(0, 2**32 - 1),
    slice=st.integers(0, 2**32 - 1),
    channel=text,
    opened_at_ms=st.integers(0, 4_102_444_800_000),
)


@given(st.lists(sessions, min_size=1, max_size=40))
def test_column_wise_equals_record_by_record(batch: list[BillingSession]) -> None:
    block = sessions_from_json([encode(s) for s in batch])
    expected = sessions_arrow(*to_columns(Batch("sessions", tuple(batch))))
    assert block is not None
    assert block.equals(expected)


GOOD = orjson.loads(encode(BillingSession("a/c/0@0/usage/0", "usage", "a", "c", 0, 0, "web", 1)))


REFUSED = [
    orjson.dumps({k: v for k, v in GOOD.items() if k != "app_id"}),
    orjson.dumps({**GOOD, "kind": "minutes"}),
    orjson.dumps({**GOOD, "segment": "0"}),
    orjson.dumps({**GOOD, "opened_at_ms": 1.5}),
    orjson.dumps({**GOOD, "app_id": 7}),
    orjson.dumps({**GOOD, "channel": None}),
    b"[1, 2]",
    b"not json",
    b"",
]
OTHER = encode(BillingSession("x", "voice", "a", "c", 1, 2, "voice", 5))


@pytest.mark.parametrize("value", REFUSED)
def test_anything_the_checked_decoder_refuses_falls_back(value: bytes) -> None:
    assert not _decodes(value)
    assert sessions_from_json([OTHER, value]) is None


def test_json_over_several_lines_decodes_the_same() -> None:
    pretty = orjson.dumps(GOOD, option=orjson.OPT_INDENT_2)
    block = sessions_from_json([OTHER, pretty])
    expected = sessions_arrow(*to_columns(Batch("sessions", (decode(OTHER), decode(pretty)))))
    assert block is not None and block.equals(expected)


def _decodes(value: bytes) -> bool:
    try:
        decode(value)
    except ValidationError:
        return False
    return True


def test_counters_that_do_not_fit_fall_back() -> None:
    assert sessions_from_json([orjson.dumps({**GOOD, "segment": -1})]) is None
    assert sessions_from_json([orjson.dumps({**GOOD, "slice": 2**32})]) is None
