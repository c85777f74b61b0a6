"""The Litestar app factory: `create_app(Settings.from_env())`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from accessctl import __version__
from accessctl.audit import AuditWriter
from accessctl.audit.outbox import OutboxDrain
from accessctl.auth import TokenVerifier, load_key_set
from accessctl.break_glass import BreakGlassRules, NotificationRelay, load_reasons, sender_for
from accessctl.db import Database
from accessctl.migrate import head_revision
from accessctl.pdp import DecisionPoint
from accessctl.pdp.policy_source import active_version_loader
from accessctl.settings import Settings
from accessctl.web.audit import AuditController
from accessctl.web.auth import PUBLIC_PATHS, BearerAuthentication
from accessctl.web.authzen import AuthZenController
from accessctl.web.authzen_search import AuthZenSearchController
from accessctl.web.break_glass import BreakGlassController, BreakGlassReviewController
from accessctl.web.context import CareRelationController, PatientBlockController
from accessctl.web.dependencies import provide_db_session
from accessctl.web.directory import DirectoryController
from accessctl.web.errors import EXCEPTION_HANDLERS
from accessctl.web.evaluation_endpoint import AccessctlApp
from accessctl.web.health import live, ready
from accessctl.web.metrics import RequestMetrics, metrics
from accessctl.web.org_units import OrgUnitController
from accessctl.web.patient_log import PatientAccessLogController
from accessctl.web.policies import PolicyController
from accessctl.web.policy_checks import PolicyCheckController
from accessctl.web.role_assignments import RoleAssignmentController
from accessctl.web.scim import scim_router
from accessctl.web.wellknown import authzen_configuration


def create_app(settings: Settings, *, database: Database | None = None) -> Litestar:
    """Build the app. Pass `database` to share an engine (tests); otherwise the app owns one."""
    owns_database = database is None
    db = database or Database.from_settings(settings)
    reasons = load_reasons(settings.break_glass_reasons)  # a bad list stops the start, naming the setting

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        keys = await load_key_set(settings)
        point = DecisionPoint(
            db,
            active_version_loader(settings.policies_dir),
            poll_seconds=settings.change_poll_seconds or 0.5,
            break_glass_reasons=reasons.codes,
            # An app that owns its database is the process's own (a server): it may manage the process's heap.
            settle_heap=owns_database,
        )
        await point.start(follow=settings.change_poll_seconds > 0)
        app.state.decision_point = point
        writer = AuditWriter.from_settings(db.transactions, settings)
        await writer.start()
        app.state.audit_writer = writer
        relay = NotificationRelay(
            db.sessions,
            sender_for(settings.notify_webhook_url),
            writer,
            overdue_days=settings.break_glass_review_overdue_days,
        )
        drain = OutboxDrain(db.transactions, writer)
        if settings.change_poll_seconds > 0:  # background work off, as for the change follower (tests)
            relay.start()
            drain.start()
        app.state.notification_relay = relay
        app.state.verifier = TokenVerifier(
            keys, issuer=settings.jwt_issuer, audience=settings.jwt_audience, leeway_s=settings.jwt_leeway_s
        )
        try:
            yield
        finally:
            await relay.close()
            await drain.close()
            await writer.close()
            await point.close()
            await keys.close()
            if owns_database:
                await db.dispose()

    state: dict[str, Any] = {
        "settings": settings,
        "database": db,
        "migration_head": head_revision(),
        "break_glass_reasons": reasons,
        "break_glass_rules": BreakGlassRules(
            min_reason_chars=settings.break_glass_min_reason_chars,
            default_max_minutes=settings.break_glass_default_max_minutes,
            review_overdue_days=settings.break_glass_review_overdue_days,
        ),
        "break_glass_lock": asyncio.Lock(),
    }
    return AccessctlApp(
        route_handlers=[
            live,
            ready,
            authzen_configuration,
            metrics,
            DirectoryController,
            CareRelationController,
            PatientBlockController,
            AuthZenController,
            AuthZenSearchController,
            PolicyController,
            PolicyCheckController,
            RoleAssignmentController,
            OrgUnitController,
            scim_router,
            AuditController,
            PatientAccessLogController,
            BreakGlassController,
            BreakGlassReviewController,
        ],
        dependencies={"db_session": Provide(provide_db_session)},
        middleware=[RequestMetrics, DefineMiddleware(BearerAuthentication, exclude=PUBLIC_PATHS)],
        exception_handlers=EXCEPTION_HANDLERS,
        state=State(state),
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(
            title="accessctl",
            version=__version__,
            path="/schema",
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}
            ),
            security=[{"bearer": []}],
        ),
        logging_config=None,
        debug=False,
    )


logging.getLogger("accessctl").addHandler(logging.NullHandler())
