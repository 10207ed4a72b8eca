"""User-facing input errors.

A :class:`InputError` is bad input, not a bug: the CLI prints it as one line
(file, field, what was expected) and exits with status 2, without a traceback.
Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad input from a user: a file, the field in it, and what was expected.

    Parameters
    ----------
    source
        The file (or command-line option) the bad value came from.
    field
        Where in that source: a YAML key path, a raster layer, a column.
    problem
        What is wrong and what was expected, as a short sentence.
    """

    def __init__(self, source: str | Path | None, field: str | None, problem: str):
        self.source = str(source) if source is not None else None
        self.field = field
        self.problem = problem
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = self.source or "input"
        if self.field:
            where = f"{where}: {self.field}"
        return f"{where}: {self.problem}"
