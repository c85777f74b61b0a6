"""The policy decision point: loads the engine from the database and keeps it current from the change log."""

from accessctl.pdp.runtime import DecisionPoint

__all__ = ["DecisionPoint"]
