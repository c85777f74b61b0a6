"""The change-log table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from accessctl.db import Base, utcnow


class EngineChange(Base):
    """One change that engines must apply: what kind of fact, and its key (an id, or a user id)."""

    __tablename__ = "engine_changes"

    # SQLite only autoincrements an INTEGER PRIMARY KEY, so the big integer is plain INTEGER there.
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
