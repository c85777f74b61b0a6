"""accessctl: access control and audit for a regional shared patient record."""

__version__ = "0.1.0"
