"""The fast canonical writer (msgspec) writes exactly the reference's bytes, or hands the value to the reference."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accessctl.audit.chain import canonical_json, iso_utc, normalise_detail, reference_canonical_json

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=500)
@given(JSON_VALUES)
def test_fast_and_reference_canonical_bytes_agree(value: Any) -> None:
    assert canonical_json(value) == reference_canonical_json(value)


@pytest.mark.parametrize("value", [1e16, 1e-7, 2**64, {"a": 1.5}, [1e300]])
def test_values_msgspec_spells_differently_go_to_the_reference(value: Any) -> None:
    assert canonical_json(value) == reference_canonical_json(value)


def test_nan_is_refused_as_the_reference_refuses_it() -> None:
    with pytest.raises(ValueError):
        canonical_json({"x": math.nan})
    with pytest.raises(ValueError):
        normalise_detail({"x": math.nan})


@settings(max_examples=300)
@given(st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-9))])))
def test_iso_utc_spells_every_instant_as_strftime_does(moment: datetime) -> None:
    utc = moment.astimezone(UTC) if moment.year > 1 else moment
    assert iso_utc(utc) == utc.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@given(st.dictionaries(st.text(), st.none() | st.booleans() | st.text() | st.integers() | st.lists(st.text())))
def test_normalised_detail_is_what_the_database_reads_back(detail: dict[str, Any]) -> None:
    assert normalise_detail(detail) == json.loads(reference_canonical_json(detail))
