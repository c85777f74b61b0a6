"""Benchmarks: the decision engine beside stock Casbin, and the HTTP service beside a bare Litestar app."""

from accessctl.bench.cli import bench

__all__ = ["bench"]
