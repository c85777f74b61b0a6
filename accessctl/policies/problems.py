"""A problem found in the role documents, naming the file, line and field so its author can fix it."""

from __future__ import annotations

from dataclasses import dataclass

# The field of a problem that concerns a whole file (a syntax error, a missing file).
WHOLE_FILE = "(file)"


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One thing wrong in one policy file; `file` is relative to the policy directory."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"

    def as_dict(self) -> dict[str, str | int]:
        """The problem as plain JSON-ready data, for scripts."""
        return {"file": self.file, "line": self.line, "field": self.field, "message": self.message}
