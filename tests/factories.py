"""Small builders for directory rows in tests (inside the test's rolled-back transaction)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.directory.models import Employment, Organisation, Service, Unit, UnitService, User

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def org_number(seed: int) -> str:
    """A valid 9-digit organisation number (mod-11) derived from `seed`."""
    weights = (3, 2, 7, 6, 5, 4, 3, 2)
    n = 90_000_000 + seed
    while True:
        digits = [int(c) for c in f"{n:08d}"]
        remainder = sum(w * d for w, d in zip(weights, digits, strict=True)) % 11
        check = 0 if remainder == 0 else 11 - remainder
        if check != 10:
            return f"{n:08d}{check}"
        n += 1


async def add_organisation(
    session: AsyncSession, org_id: str, *, kind: str = "municipality", seed: int = 1, live: bool = True
) -> Organisation:
    org = Organisation(
        id=org_id,
        org_number=org_number(seed),
        name=org_id.title(),
        kind=kind,
        go_live=date(2023, 1, 1) if live else date(2099, 1, 1),
        agreement_signed=True,
    )
    session.add(org)
    await session.flush()
    return org


async def add_unit(
    session: AsyncSession, unit_id: str, org_id: str, *, parent: str | None = None, services: tuple[str, ...] = ()
) -> Unit:
    unit = Unit(id=unit_id, organisation_id=org_id, parent_id=parent, name=unit_id)
    session.add(unit)
    await session.flush()
    for service_id in services:
        if await session.get(Service, service_id) is None:
            session.add(Service(id=service_id, name=service_id, group="test", shielded=False))
            await session.flush()
        session.add(UnitService(unit_id=unit_id, service_id=service_id))
    await session.flush()
    return unit


async def add_user(
    session: AsyncSession, user_id: str, *, unit: str | None = None, position: str = "7010", status: str = "active"
) -> User:
    user = User(
        id=user_id,
        hr_id=f"hr-{user_id}",
        user_name=f"{user_id}@example.test",
        given_name="Test",
        family_name=user_id,
        status=status,
    )
    session.add(user)
    await session.flush()
    if unit is not None:
        session.add(Employment(user_id=user_id, unit_id=unit, position_code=position, valid_from=T0, valid_to=None))
        await session.flush()
    return user
