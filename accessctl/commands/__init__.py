"""Subcommands of `accessctl` that belong to no single area."""
