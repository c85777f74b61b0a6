"""The service catalogue of the active policy version, kept in the `services` table.

HR names these services on units (the SCIM and LDAP feeds refuse a service the table does not hold), and the
engine reads from the table which services are shielded. Before this, only `accessctl demo load` filled it, so a
real install had no services and no shielding.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.directory.models import Service
from accessctl.policies.documents import ServiceCatalogue
from accessctl.policies.source import SERVICES_FILE
from accessctl.policies.yaml_source import load_yaml


def service_catalogue(files: Mapping[str, str]) -> ServiceCatalogue | None:
    """The catalogue among a stored version's files (validated when the version was published)."""
    text = files.get(SERVICES_FILE)
    if text is None:
        return None
    return msgspec.convert(load_yaml(text).data, ServiceCatalogue)


async def sync_services(session: AsyncSession, files: Mapping[str, str]) -> None:
    """Make each service of the version's catalogue a row of `services`, as the catalogue says.

    A service that left the catalogue keeps its row and its shielding: units may still name it, and records
    written in it stay shielded until a catalogue says otherwise.
    """
    catalogue = service_catalogue(files)
    if catalogue is None:
        return
    existing = set(await session.scalars(select(Service.id)))
    for entry in catalogue.services:
        values = {"name": entry.name, "group": entry.group, "shielded": entry.shielded}
        if entry.id in existing:
            await session.execute(update(Service).where(Service.id == entry.id).values(**values))
        else:
            await session.execute(insert(Service).values(id=entry.id, **values))
