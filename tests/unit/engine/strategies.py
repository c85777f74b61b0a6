"""Hypothesis strategies for small random worlds and requests, with time boundaries close to each other."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import strategies as st

from accessctl.engine import (
    SCOPES,
    AccessRequest,
    AssignmentFacts,
    BreakGlassGrantFacts,
    CareRelationFacts,
    CompiledPolicy,
    CompiledRole,
    EmploymentFacts,
    OrganisationFacts,
    PatientBlockFacts,
    Permission,
    ResourceType,
    Snapshot,
    UnitFacts,
    UserFacts,
)

T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
USERS = ("ann", "bob", "cas")
ROLES = ("r1", "r2", "r3")
UNITS = ("u1", "u2", "u3", "u4", "u5")
PATIENTS = ("01857000001", "02857000002")
SHIELD = "shield"
CATEGORIES = ("protected_address", "psychiatry")
RESOURCE_TYPES = {
    "note": ResourceType("note", "", patient_bound=True),
    "report": ResourceType("report", "", patient_bound=False),
    "plan": ResourceType("plan", "", patient_bound=False),
}
ACTIONS = ("read", "write")

moments = st.integers(-3, 3).map(lambda k: T0 + timedelta(minutes=k))
# Most windows hold around T0, with their edges close enough to be crossed by the times asked about.
starts = st.integers(-3, 1).map(lambda k: T0 + timedelta(minutes=k))
ends = st.one_of(st.none(), st.none(), st.integers(-1, 3).map(lambda k: T0 + timedelta(minutes=k)))
nows = st.tuples(st.integers(-4, 4), st.sampled_from([0, 0, 30])).map(
    lambda km: T0 + timedelta(minutes=km[0], seconds=km[1])
)


@st.composite
def policies(draw: st.DrawFn) -> CompiledPolicy:
    roles = {}
    for role_id in ROLES:
        perms = draw(
            st.lists(
                st.builds(
                    Permission,
                    st.sampled_from(sorted(RESOURCE_TYPES)),
                    st.sampled_from(ACTIONS),
                    st.sampled_from(SCOPES),
                ),
                min_size=1,
                max_size=5,
            )
        )
        roles[role_id] = CompiledRole(
            role_id,
            role_id,
            tuple(perms),
            shielded_services=draw(st.sampled_from([frozenset(), frozenset({SHIELD})])),
            break_glass=draw(st.booleans()),
            break_glass_max_minutes=draw(st.sampled_from([0, 30, 240])),
            address_categories=draw(st.sampled_from([frozenset(), frozenset({"protected_address"})])),
        )
    return CompiledPolicy("p1", roles, RESOURCE_TYPES)


def requests_for(policy: CompiledPolicy, world: Snapshot, *, with_patient: bool) -> st.SearchStrategy[AccessRequest]:
    """Mostly requests the world's role assignments could grant, so most reach the patient rules."""
    likely = [
        (a.user_id, a.unit_id, p.resource_type, p.action)
        for a in world.assignments
        if a.role_id in policy.roles
        for p in policy.roles[a.role_id].permissions
    ]
    if not likely:
        return requests(with_patient)
    return st.one_of(
        st.tuples(st.sampled_from(likely), requests(with_patient)).map(
            lambda t: replace(t[1], user_id=t[0][0], unit_id=t[0][1], resource_type=t[0][2], action=t[0][3])
        ),
        requests(with_patient),
    )


def _organisations(draw: st.DrawFn) -> tuple[OrganisationFacts, ...]:
    second = draw(st.sampled_from([None, date(2026, 5, 4), date(2026, 5, 5), date(2020, 1, 1)]))
    return (
        OrganisationFacts("o1", date(2025, 1, 1), agreement_signed=True),
        OrganisationFacts("o2", second, agreement_signed=draw(st.booleans())),
    )


@st.composite
def worlds(draw: st.DrawFn) -> Snapshot:
    services = st.sampled_from([frozenset(), frozenset({SHIELD}), frozenset({"plain"})])
    units = (
        UnitFacts("u1", "o1", None, draw(services)),
        UnitFacts("u2", "o1", "u1", draw(services)),
        UnitFacts("u3", "o1", "u2", draw(services)),
        UnitFacts("u4", "o2", None, draw(services)),
        UnitFacts("u5", "o2", "u4", draw(services)),
    )
    users = tuple(
        UserFacts(u, active=u != "cas" or draw(st.booleans()), national_id=draw(st.sampled_from([None, *PATIENTS])))
        for u in USERS
    )
    user, unit = st.sampled_from(USERS), st.sampled_from(UNITS)
    # Everyone holds one role somewhere for good, so most requests get past rule 1; the rest is random.
    steady = [("ann", "r1", "u2"), ("bob", "r2", "u3"), ("cas", "r3", "u5")]
    employments = [EmploymentFacts(u, unit_id, "P", T0 - timedelta(days=1), None) for u, _, unit_id in steady]
    employments += draw(st.lists(st.builds(EmploymentFacts, user, unit, st.just("P"), starts, ends), max_size=3))
    assignments = [AssignmentFacts(u, r, unit_id, T0 - timedelta(days=1), None) for u, r, unit_id in steady]
    assignments += draw(
        st.lists(st.builds(AssignmentFacts, user, st.sampled_from((*ROLES, "r9")), unit, starts, ends), max_size=5)
    )
    return Snapshot(
        organisations=_organisations(draw),
        units=units,
        users=users,
        employments=tuple(employments),
        assignments=tuple(assignments),
        care_relations=tuple(draw(st.lists(relations(), max_size=4, unique_by=lambda r: r.id))),
        blocks=tuple(draw(st.lists(blocks(), max_size=2, unique_by=lambda b: b.id))),
        grants=tuple(draw(st.lists(grants(), max_size=2, unique_by=lambda g: g.id))),
        shielded_services=frozenset({SHIELD}),
    )


@st.composite
def relations(draw: st.DrawFn) -> CareRelationFacts:
    target = draw(
        st.one_of(
            st.sampled_from(USERS).map(lambda u: {"user_id": u}),
            st.sampled_from(UNITS).map(lambda u: {"unit_id": u}),
        )
    )
    return CareRelationFacts(  # ids shared with the changes, so a put can replace one
        draw(st.sampled_from(["c1", "c2", "c3", "c4"])),
        draw(st.sampled_from(PATIENTS)),
        draw(st.sampled_from(["admission", "referral"])),
        draw(starts),
        draw(ends),
        **target,
    )


@st.composite
def blocks(draw: st.DrawFn) -> PatientBlockFacts:
    target = draw(
        st.one_of(
            st.sampled_from(USERS).map(lambda u: {"user_id": u}),
            st.sampled_from(UNITS).map(lambda u: {"unit_id": u}),
            st.sampled_from(CATEGORIES).map(lambda c: {"category": c}),
        )
    )
    return PatientBlockFacts(
        draw(st.sampled_from(["b1", "b2", "b3"])),
        draw(st.sampled_from(PATIENTS)),
        draw(moments),
        draw(ends),
        **target,
    )


@st.composite
def grants(draw: st.DrawFn) -> BreakGlassGrantFacts:
    return BreakGlassGrantFacts(
        draw(st.sampled_from(["g1", "g2"])),
        draw(st.sampled_from(USERS)),
        draw(st.sampled_from(PATIENTS)),
        "u1",
        "emergency",
        draw(starts),
        draw(moments),
        draw(st.one_of(st.none(), st.none(), moments)),
    )


def requests(with_patient: bool) -> st.SearchStrategy[AccessRequest]:
    return st.builds(
        AccessRequest,
        user_id=st.sampled_from((*USERS, "ghost")),
        unit_id=st.sampled_from((*UNITS, None)),
        action=st.sampled_from(ACTIONS),
        resource_type=st.sampled_from((*RESOURCE_TYPES, "unknown")),
        patient=st.sampled_from(PATIENTS) if with_patient else st.none(),
        resource_unit=st.sampled_from((*UNITS, None, "elsewhere")),
        service=st.sampled_from((None, SHIELD, "plain")),
        categories=st.frozensets(st.sampled_from(CATEGORIES), max_size=2),
    )
