"""Where notifications go: a webhook, or the log when none is configured; both behind one Protocol."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import httpx

log = logging.getLogger("accessctl.break_glass.notify")


@dataclass(frozen=True, slots=True)
class Notification:
    """One outbox entry to deliver; `event_id` is the same on every retry, so receivers can drop duplicates."""

    event_id: uuid.UUID
    kind: str
    payload: dict[str, Any]
    created_at: datetime

    def body(self) -> dict[str, Any]:
        return {
            "event_id": str(self.event_id),
            "kind": self.kind,
            "created_at": self.created_at.isoformat(),
            "data": self.payload,
        }


class NotificationSender(Protocol):
    async def send(self, notification: Notification) -> None:
        """Deliver, or raise: the outbox then keeps the entry and tries again later."""
        ...


class LogSender:
    """The default: each notification becomes one log line (no patient, no free text is ever in one)."""

    async def send(self, notification: Notification) -> None:
        log.info(
            "break-the-glass notification %s %s: %s", notification.kind, notification.event_id, notification.payload
        )


class WebhookSender:
    """POSTs each notification as JSON; anything but a 2xx answer is a failure to retry."""

    def __init__(self, url: str, *, timeout_s: float = 10.0, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._url = url
        self._client = httpx.AsyncClient(timeout=timeout_s, transport=transport)

    async def send(self, notification: Notification) -> None:
        response = await self._client.post(
            self._url, json=notification.body(), headers={"Idempotency-Key": str(notification.event_id)}
        )
        response.raise_for_status()

    async def close(self) -> None:
        await self._client.aclose()


def sender_for(webhook_url: str | None) -> NotificationSender:
    """The webhook sender when a URL is configured, else the log-only one."""
    return WebhookSender(webhook_url) if webhook_url else LogSender()
