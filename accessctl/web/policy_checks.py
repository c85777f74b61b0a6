"""The role documents' checks over HTTP: validate and test the server's documents, export for stock Casbin."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Controller, get, post
from litestar.datastructures import State

from accessctl.db import utcnow
from accessctl.pdp.policy_source import active_policy
from accessctl.policies.access_report import report_json
from accessctl.policies.access_tests import run_access_tests
from accessctl.policies.casbin_export import MODEL_CONF, policy_csv
from accessctl.policies.live_assignments import live_assignments
from accessctl.policies.validate import validate_policy_dir
from accessctl.settings import Settings
from accessctl.web.auth import requires
from accessctl.web.dependencies import DbSession


class PolicyCheckController(Controller):
    path = "/v1/policies"
    guards = [requires("policy:admin", "policy:approve")]
    tags = ["policies"]

    @post("/validate", status_code=200)
    async def validate(self, state: State) -> dict[str, Any]:
        """Every problem in the server's role documents, each with file, line and field."""
        settings: Settings = state.settings
        problems = await asyncio.to_thread(validate_policy_dir, settings.policies_dir)
        return {"valid": not problems, "problems": [p.as_dict() for p in problems]}

    @post("/test", status_code=200)
    async def test(self, state: State) -> dict[str, Any]:
        """Run the access tests on the server's role documents; `failed` > 0 or `problems` means not ready."""
        settings: Settings = state.settings
        report = await asyncio.to_thread(run_access_tests, settings.policies_dir, settings.policies_dir / "tests")
        return report_json(report)

    @get("/export")
    async def export(self, state: State, db_session: DbSession) -> dict[str, str]:
        """`model.conf` and `policy.csv` for stock Casbin: the active version and the assignments valid now."""
        settings: Settings = state.settings
        now = utcnow()
        policy = await active_policy(db_session, fallback_dir=settings.policies_dir)
        assignments = await live_assignments(db_session, now)
        return {
            "policy_version": policy.version,
            "model_conf": MODEL_CONF,
            "policy_csv": policy_csv(policy, assignments, now),
        }
