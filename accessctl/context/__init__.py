"""Patient context pushed by clinical systems: care relations and patient blocks."""
