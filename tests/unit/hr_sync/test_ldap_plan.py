"""The LDAP pull's pure parts: the mapping, entries to records, the diff's kinds, the guard, and delta reads."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from accessctl.errors import InvalidInput
from accessctl.hr_sync.guard import mass_change_verdict
from accessctl.hr_sync.ldap import InMemoryDirectory, classify, load_mapping, mapping_from_dict
from accessctl.hr_sync.ldap.entries import FieldProblem, parse_moment
from accessctl.hr_sync.ldap.read import read_directory
from accessctl.hr_sync.ldap.source import DirectoryEntry
from accessctl.hr_sync.ldap.units import read_units
from accessctl.hr_sync.org_tree import UnitRecord
from accessctl.hr_sync.records import EmploymentRecord, UserRecord
from accessctl.migrate import PROJECT_ROOT

MAPPING = load_mapping(PROJECT_ROOT / "docs" / "ldap" / "mapping.yaml")
NOW = datetime(2026, 11, 26, tzinfo=UTC)
T0 = datetime(2024, 1, 1, tzinfo=UTC)
PEOPLE = "ou=people,dc=region,dc=example"
JOBS = "ou=employments,dc=region,dc=example"
TESTBY = "310000019"


def user(unit: str = "a", *, active: bool = True, valid_to: datetime | None = None, name: str = "Lege") -> UserRecord:
    return UserRecord("HR1", "kari", "Kari", name, active=active,
                      employments=(EmploymentRecord(unit, "7006", T0, valid_to),))  # fmt: skip


def two_jobs(b_ends: datetime | None = None) -> UserRecord:
    """A user working in units a and b; the job in b ends at `b_ends`."""
    jobs = (EmploymentRecord("a", "7006", T0), EmploymentRecord("b", "7006", T0, b_ends))
    return UserRecord("HR1", "kari", "Kari", "Lege", employments=jobs)


@pytest.mark.parametrize(
    ("before", "after", "kind"),
    [
        (None, user(), "joiner"),
        (user(), user(active=False), "leaver"),
        (user(), None, "leaver"),
        (user(), user(valid_to=datetime(2027, 1, 1, tzinfo=UTC)), "leaver"),
        (user(), user("b"), "mover"),
        (user(), user(name="Berg"), "changed"),
        (user(active=False), user(), "joiner"),
        (two_jobs(), two_jobs(datetime(2027, 1, 1, tzinfo=UTC)), "mover"),
        (two_jobs(datetime(2027, 1, 1, tzinfo=UTC)), two_jobs(datetime(2026, 12, 1, tzinfo=UTC)), "mover"),
        (two_jobs(datetime(2027, 1, 1, tzinfo=UTC)), two_jobs(), "changed"),
    ],
)
def test_each_change_gets_its_kind(before: UserRecord | None, after: UserRecord | None, kind: str) -> None:
    found = classify(before, after, NOW)
    assert found is not None and found[0] == kind


def test_the_same_record_is_no_change() -> None:
    assert classify(user(), user(), NOW) is None


def test_guard_stops_above_the_share_and_when_an_organisation_would_be_emptied() -> None:
    active = {"big": {f"u{i}" for i in range(100)}, "small": {"s1", "s2"}}
    assert not mass_change_verdict(["u1", "u2", "u3"], active).stops
    assert mass_change_verdict([f"u{i}" for i in range(10)], active).stops
    emptied = mass_change_verdict(["s1", "s2"], active)
    assert emptied.stops and "small" in (emptied.reason or "")
    assert not mass_change_verdict(["u1"], {"one": {"u1"}}).stops  # one leaver is never a mass change


def test_guard_stops_mass_moves_like_mass_leavers_judging_them_apart() -> None:
    active = {"big": {f"u{i}" for i in range(100)}, "small": {"s1", "s2"}}
    moved = mass_change_verdict([], active, moved=[f"u{i}" for i in range(10)])
    assert moved.stops and moved.moves == 10 and moved.deactivations == 0
    assert "would move 10 of 102 active users" in (moved.reason or "")
    assert not mass_change_verdict([], active, moved=["u1", "u2", "u3"]).stops
    both_moved = mass_change_verdict([], active, moved=["s1", "s2"])
    assert both_moved.stops and "every active user of organisation small" in (both_moved.reason or "")
    # Below the limit each, leavers and movers are not added up; a leaver who also moves counts once, as a leaver.
    apart = mass_change_verdict(["u1", "u2", "u3"], active, moved=["u1", "u4", "u5", "u6"])
    assert not apart.stops and (apart.deactivations, apart.moves) == (3, 3)
    assert not mass_change_verdict([], {"one": {"u1"}}, moved=["u1"]).stops  # one mover is never a mass change


def test_mapping_refuses_unknown_fields_and_bad_numbers_naming_them() -> None:
    raw = {"source": "x", "organisations": ["123456789"], "connection": {"url": "ldap://h"},
           "users": {"base": "b", "fields": {}}, "employments": {"base": "b", "fields": {}}}  # fmt: skip
    with pytest.raises(InvalidInput, match="123456789"):
        mapping_from_dict(raw)
    raw["organisations"] = ["310000019"]
    raw["users"] = {"base": "b", "fields": {"hr_id": "x", "shoe_size": "y"}}
    with pytest.raises(InvalidInput, match="shoe_size"):
        mapping_from_dict(raw)


def _directory() -> InMemoryDirectory:
    directory = InMemoryDirectory()
    old = datetime(2025, 1, 1, tzinfo=UTC)
    for uid, hr in (("kari", "HR1"), ("ola", "HR2")):
        directory.put(f"uid={uid},{PEOPLE}", {"objectClass": "inetOrgPerson", "uid": uid, "employeeNumber": hr,
                                              "givenName": uid, "sn": "X"}, modified=old)  # fmt: skip
        job = {"objectClass": "organizationalRole", "roleOccupant": f"uid={uid},{PEOPLE}", "ou": "a",
               "description": "position=7006 from=2024-01-01"}  # fmt: skip
        directory.put(f"cn={hr}-1,{JOBS}", job, modified=old)
    return directory


def test_delta_read_gives_a_user_whose_employment_changed_all_of_its_employments() -> None:
    directory = _directory()
    directory.put(f"cn=HR1-2,{JOBS}", {"objectClass": "organizationalRole", "roleOccupant": f"uid=kari,{PEOPLE}",
                                       "ou": "b", "description": "position=7010 from=2026-01-01"})  # fmt: skip
    read = read_directory(directory, MAPPING, since=datetime(2026, 1, 1, tzinfo=UTC))
    assert list(read.users.users) == ["HR1"]
    assert {j.unit for j in read.users.users["HR1"].employments} == {"a", "b"}


def test_delta_read_finds_users_and_employments_by_an_hr_id_cut_by_a_pattern() -> None:
    raw = yaml.safe_load((PROJECT_ROOT / "docs" / "ldap" / "mapping.yaml").read_text(encoding="utf-8"))
    raw["users"]["fields"]["hr_id"] = {"attribute": "employeeNumber", "pattern": r"^emp-(.+)$"}
    raw["employments"]["user_refers_to"] = "hr_id"
    raw["employments"]["fields"]["user"] = "uniqueIdentifier"
    mapping = mapping_from_dict(raw)
    directory = InMemoryDirectory()
    old, since = datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
    for uid, hr in (("kari", "HR1"), ("ola", "HR2")):
        directory.put(f"uid={uid},{PEOPLE}", {"objectClass": "inetOrgPerson", "uid": uid, "employeeNumber": f"emp-{hr}",
                                              "givenName": uid, "sn": "X"}, modified=old)  # fmt: skip
        directory.put(f"cn={hr}-1,{JOBS}", {"objectClass": "organizationalRole", "uniqueIdentifier": hr, "ou": "a",
                                            "description": "position=7006 from=2024-01-01"}, modified=old)  # fmt: skip
    # Only an employment changed: its user is found, with the job it already had.
    directory.put(f"cn=HR1-2,{JOBS}", {"objectClass": "organizationalRole", "uniqueIdentifier": "HR1", "ou": "b",
                                       "description": "position=7010 from=2026-01-01"})  # fmt: skip
    read = read_directory(directory, mapping, since=since)
    assert read.users.errors == [] and list(read.users.users) == ["HR1"]
    assert {j.unit for j in read.users.users["HR1"].employments} == {"a", "b"}
    # Only a user changed: its employments are found by the HR id the pattern cuts, not the raw value.
    directory.put(f"uid=ola,{PEOPLE}", {"objectClass": "inetOrgPerson", "uid": "ola", "employeeNumber": "emp-HR2",
                                        "givenName": "ola", "sn": "Y"})  # fmt: skip
    read = read_directory(directory, mapping, since=since)
    assert {hr: [j.unit for j in u.employments] for hr, u in read.users.users.items()} == {"HR1": ["a", "b"],
                                                                                            "HR2": ["a"]}  # fmt: skip


@pytest.mark.parametrize("changed", [True, False], ids=["changed", "older"])
def test_delta_read_keeps_an_employment_naming_no_user_so_that_no_user_loses_a_job_for_it(changed: bool) -> None:
    directory = _directory()
    directory.put(f"cn=HR1-1,{JOBS}", {"objectClass": "organizationalRole", "ou": "a",
                                       "description": "position=7006 from=2024-01-01"},
                  modified=None if changed else datetime(2025, 1, 1, tzinfo=UTC))  # fmt: skip
    directory.put(f"uid=kari,{PEOPLE}", {"objectClass": "inetOrgPerson", "uid": "kari", "employeeNumber": "HR1",
                                         "givenName": "kari", "sn": "Berg"})  # fmt: skip
    read = read_directory(directory, MAPPING, since=datetime(2026, 1, 1, tzinfo=UTC))
    assert (f"cn=HR1-1,{JOBS}", "user") in {(e.record, e.field) for e in read.users.errors}
    assert read.users.untied_employment and read.users.users["HR1"].employments == ()


def test_bad_employment_rejects_its_whole_user_naming_the_entry_and_field() -> None:
    directory = _directory()
    directory.put(f"cn=HR2-1,{JOBS}", {"objectClass": "organizationalRole", "roleOccupant": f"uid=ola,{PEOPLE}",
                                       "ou": "a", "description": "position=7006 from=2024-13-45"})  # fmt: skip
    read = read_directory(directory, MAPPING)
    assert list(read.users.users) == ["HR1"]
    assert (f"cn=HR2-1,{JOBS}", "valid_from") in {(e.record, e.field) for e in read.users.errors}
    assert "HR2" in read.users.rejected


def test_shipped_mapping_is_valid() -> None:
    assert isinstance(MAPPING.users.base, str) and Path(PROJECT_ROOT / "docs" / "ldap" / "sample.ldif").exists()


def test_bad_employment_naming_its_user_by_a_patterned_hr_id_rejects_that_user() -> None:
    raw = yaml.safe_load((PROJECT_ROOT / "docs" / "ldap" / "mapping.yaml").read_text(encoding="utf-8"))
    raw["employments"]["user_refers_to"] = "hr_id"
    raw["employments"]["fields"]["user"] = {"attribute": "cn", "pattern": r"^(HR\d+)-"}
    directory = _directory()
    directory.put(f"cn=HR2-1,{JOBS}", {"objectClass": "organizationalRole", "cn": "HR2-1", "ou": "a",
                                       "description": "position=7006 from=2024-13-45"})  # fmt: skip
    directory.put(f"cn=HR1-1,{JOBS}", {"objectClass": "organizationalRole", "cn": "HR1-1", "ou": "a",
                                       "description": "position=7006 from=2024-01-01"})  # fmt: skip
    read = read_directory(directory, mapping_from_dict(raw))
    assert list(read.users.users) == ["HR1"] and "HR2" in read.users.rejected
    assert not read.users.untied_employment


def test_employment_naming_no_user_is_an_error_and_marks_the_read() -> None:
    directory = _directory()
    directory.put(f"cn=HR2-1,{JOBS}", {"objectClass": "organizationalRole", "ou": "a",
                                       "description": "position=7006 from=2024-01-01"})  # fmt: skip
    read = read_directory(directory, MAPPING)
    assert (f"cn=HR2-1,{JOBS}", "user") in {(e.record, e.field) for e in read.users.errors}
    assert read.users.untied_employment


def test_rejected_unit_entry_marks_the_tree_it_belongs_to_by_the_entry_above_or_the_unit_it_names() -> None:
    units = MAPPING.units
    assert units is not None
    base = "ou=units,dc=region,dc=example"
    entries = [
        DirectoryEntry(f"ou=testby,{base}", {"ou": ("testby",), "description": ("T",), "businessCategory": (TESTBY,)}),
        DirectoryEntry(f"ou=testby.a,ou=testby,{base}", {"ou": ("testby.a",)}),  # no name
        DirectoryEntry(f"ou=lost,{base}", {"description": ("Lost",)}),  # no id, no number, nothing above
    ]
    read = read_units(entries[:2], units)
    assert read.trees == {TESTBY: [UnitRecord("testby", "T", None, None)]}
    assert (read.doubtful_numbers, read.doubtful_units, read.unplaced) == ({TESTBY}, {"testby.a"}, False)
    assert read.doubtful({TESTBY: ["testby"], "310000027": ["testby.a"]}) == {TESTBY, "310000027"}
    assert read_units(entries, units).doubtful({"310000027": ["elvdal"]}) == {TESTBY, "310000027"}


@pytest.mark.parametrize("text", ["2024-13-45", "0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-01:00"])
def test_a_date_that_is_no_moment_in_utc_is_a_field_problem(text: str) -> None:
    with pytest.raises(FieldProblem, match="valid_from"):
        parse_moment(text, "valid_from")
