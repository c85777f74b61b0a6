"""The HTTP layer: Litestar app factory, routes, schemas, authentication and error mapping."""

from accessctl.web.app import create_app

__all__ = ["create_app"]
