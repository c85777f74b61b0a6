"""The calls `accessctl bench scim` times: each SCIM operation on demo-region users no other operation touches."""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from accessctl.db import Database, utcnow
from accessctl.directory.models import User
from accessctl.hr_sync.mapping import format_datetime, user_to_scim
from accessctl.hr_sync.records import EmploymentRecord, StoredUser
from accessctl.hr_sync.schemas import HEALTH, PATCH_OP, USER
from accessctl.hr_sync.store import load_user, read_user
from accessctl.settings import Settings

USERS_PATH = "/scim/v2/Users"
# The table's order. Every operation but `post` needs its own existing users; `post` makes new ones.
OPERATIONS = ("get", "filter", "post", "put", "patch", "delete")
ON_EXISTING = tuple(op for op in OPERATIONS if op != "post")
LABELS = {
    "get": "GET /Users/{id}",
    "filter": 'GET /Users?filter=userName eq "..."',
    "post": "POST /Users (joiner)",
    "put": "PUT /Users/{id} (mover)",
    "patch": "PATCH /Users/{id} (name, employment)",
    "delete": "DELETE /Users/{id} (leaver)",
}
Post = tuple[str, str]


@dataclass(frozen=True, slots=True)
class ScimCall:
    """One request, the operation it is timed under, and what a correct answer looks like."""

    operation: str
    method: str
    path: str
    expect: int = 200
    params: dict[str, str] | None = None
    content: bytes | None = None
    # A search must find exactly this many users, or it timed the wrong thing.
    total: int | None = None


@dataclass(frozen=True)
class Staff:
    """Active users drawn from the region at `now`, and the (unit, position code) posts they hold now."""

    users: list[StoredUser]
    posts: list[Post]
    active: int
    now: datetime


def _current(job: EmploymentRecord, now: datetime) -> bool:
    return job.valid_from <= now and (job.valid_to is None or job.valid_to > now)


async def _read_staff(settings: Settings, wanted: int, seed: int) -> Staff:
    database = Database.from_settings(settings)
    try:
        async with database.sessions() as session:
            now = utcnow()
            ids = list(await session.scalars(select(User.id).where(User.status == "active").order_by(User.id)))
            chosen = random.Random(seed).sample(ids, min(wanted, len(ids)))
            users = [await read_user(session, await load_user(session, i, now), now) for i in chosen]
    finally:
        await database.dispose()
    posts = sorted({(j.unit, j.position_code) for u in users for j in u.record.employments if _current(j, now)})
    return Staff(users, posts, len(ids), now)


def read_staff(settings: Settings, wanted: int, seed: int) -> Staff:
    """`wanted` active users (fewer if the region has fewer), picked by `seed`, read as SCIM sees them."""
    return asyncio.run(_read_staff(settings, wanted, seed))


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


def _job(post: Post, start: datetime) -> dict[str, str]:
    return {"unit": post[0], "positionCode": post[1], "validFrom": format_datetime(start)}


def _elsewhere(rng: random.Random, posts: list[Post], user: StoredUser) -> Post:
    """A post the user does not hold (any post when the region has no other)."""
    held = {(j.unit, j.position_code) for j in user.record.employments}
    others = [p for p in posts if p not in held]
    return rng.choice(others or posts)


def _joiner(tag: str, n: int, post: Post, start: datetime) -> bytes:
    return _json(
        {
            "schemas": [USER, HEALTH],
            "externalId": f"bench-{tag}-{n}",
            "userName": f"bench-{tag}-{n}@bench.example",
            "name": {"givenName": "Benk", "familyName": f"Joiner{n}"},
            "active": True,
            HEALTH: {"employments": [_job(post, start)]},
        }
    )


def _mover(user: StoredUser, post: Post, moved: datetime) -> bytes:
    """The user as read, with the current employments ended at `moved` and a new one from then."""
    body = user_to_scim(user, location="")
    jobs = body[HEALTH]["employments"]
    for job, record in zip(jobs, user.record.employments, strict=True):
        if _current(record, moved):
            job["validTo"] = format_datetime(moved)
    jobs.append(_job(post, moved))
    return _json(body)


def _patch(user: StoredUser, n: int, post: Post, start: datetime, tag: str) -> bytes:
    """Every other PATCH replaces the family name; the rest add an employment."""
    if n % 2 == 0:
        operation: dict[str, Any] = {
            "op": "replace",
            "path": "name.familyName",
            "value": f"{user.record.family_name}-{tag}",
        }
    else:
        operation = {"op": "add", "path": f"{HEALTH}:employments", "value": [_job(post, start)]}
    return _json({"schemas": [PATCH_OP], "Operations": [operation]})


def plan_calls(staff: Staff, per_operation: int, *, seed: int, tag: str) -> dict[str, list[ScimCall]]:
    """`per_operation` calls of each operation, each on its own user; joiners are named after `tag`.

    Needs `per_operation * len(ON_EXISTING)` users in `staff` and at least one post.
    """
    needed = per_operation * len(ON_EXISTING)
    if len(staff.users) < needed or not staff.posts:
        raise ValueError(
            f"{per_operation} calls per operation need {needed} active users; staff has {len(staff.users)}"
        )
    rng = random.Random(seed)
    groups = {op: staff.users[i * per_operation : (i + 1) * per_operation] for i, op in enumerate(ON_EXISTING)}
    at = staff.now
    return {
        "get": [ScimCall("get", "GET", f"{USERS_PATH}/{u.id}") for u in groups["get"]],
        "filter": [
            ScimCall(
                "filter", "GET", USERS_PATH, params={"filter": f"userName eq {json.dumps(u.record.user_name)}"}, total=1
            )
            for u in groups["filter"]
        ],
        "post": [
            ScimCall("post", "POST", USERS_PATH, 201, content=_joiner(tag, n, rng.choice(staff.posts), at))
            for n in range(per_operation)
        ],
        "put": [
            ScimCall("put", "PUT", f"{USERS_PATH}/{u.id}", content=_mover(u, _elsewhere(rng, staff.posts, u), at))
            for u in groups["put"]
        ],
        "patch": [
            ScimCall(
                "patch", "PATCH", f"{USERS_PATH}/{u.id}", content=_patch(u, n, _elsewhere(rng, staff.posts, u), at, tag)
            )
            for n, u in enumerate(groups["patch"])
        ],
        "delete": [ScimCall("delete", "DELETE", f"{USERS_PATH}/{u.id}", 204) for u in groups["delete"]],
    }
