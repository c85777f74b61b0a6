"""A small live region for API tests: one municipality's out-of-hours clinic with a physician on duty."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.policies.models import Role, RoleAssignment
from tests.factories import T0, add_organisation, add_unit, add_user

PATIENT = "01817006872"  # synthetic: month 01 + 80
OTHER_PATIENT = "02828929103"
UNIT = "testby.legevakt"
DOCTOR = "lege1"


async def add_world(session: AsyncSession) -> None:
    await add_organisation(session, "testby", seed=7)
    await add_unit(session, "testby", "testby")
    await add_unit(session, UNIT, "testby", parent="testby", services=("legevakt",))
    await add_user(session, DOCTOR, unit=UNIT, position="7006")
    session.add(Role(id="legevakt.lege", name="Legevaktlege", may_break_glass=True))
    await session.flush()
    session.add(
        RoleAssignment(user_id=DOCTOR, role_id="legevakt.lege", unit_id=UNIT, valid_from=T0, valid_to=None, source="hr")
    )
    await session.commit()
