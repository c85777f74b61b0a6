"""Month arithmetic and names of the audit_events partitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from accessctl.audit.partitions import create_sql, month_of, month_of_partition, next_month, partition_name


def test_month_is_taken_in_utc() -> None:
    oslo_new_year = datetime(2027, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    assert month_of(oslo_new_year) == datetime(2026, 12, 1, tzinfo=UTC)


def test_december_is_followed_by_january() -> None:
    assert next_month(datetime(2026, 12, 1, tzinfo=UTC)) == datetime(2027, 1, 1, tzinfo=UTC)


def test_partition_names_round_trip_and_ignore_other_tables() -> None:
    month = datetime(2026, 11, 1, tzinfo=UTC)
    assert partition_name(month) == "audit_events_y2026m11"
    assert month_of_partition("audit_events_y2026m11") == month
    assert month_of_partition("audit_events") is None


def test_partition_covers_exactly_its_month() -> None:
    sql = create_sql(datetime(2026, 11, 1, tzinfo=UTC))
    assert "audit_events_y2026m11 PARTITION OF audit_events" in sql
    assert "FROM ('2026-11-01T00:00:00+00:00') TO ('2026-12-01T00:00:00+00:00')" in sql
