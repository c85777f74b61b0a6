"""Benchmarks: the decision engine beside stock Casbin, the HTTP service beside a bare Litestar app, and SCIM."""

from accessctl.bench.cli import bench

__all__ = ["bench"]
