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


_TYPE_NAMES = {"str", "int", "float", "bool", "list", "dict"}


def from_validation_error(exc, source: str | Path, skip: tuple[str, ...] = ()) -> InputError:
    """The first problem of a pydantic ``ValidationError`` as an :class:`InputError`.

    ``skip`` names location parts that are not keys of the file (e.g. the tags of a
    discriminated union); union member type names are left out too.
    """
    errors = exc.errors()
    err = errors[0]
    path = ""
    previous = None
    for part in err["loc"]:
        # type names of union members are not keys; nor are the tags in `skip`, which follow a
        # list index (interventions[0].depave...), while a key of the same name (`water`) is kept
        tag = isinstance(part, str) and (part.split("[")[0] in _TYPE_NAMES or (part in skip and isinstance(previous, int)))
        previous = part
        if tag:
            continue
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key (not part of the format)"
    elif err["type"] == "union_tag_invalid":
        key = err["ctx"]["discriminator"].strip("'")
        path += f".{key}"
        msg = f"unknown {key} {err['ctx']['tag']!r}; expected one of {err['ctx']['expected_tags']}"
    elif err["type"] == "union_tag_not_found":
        key = err["ctx"]["discriminator"].strip("'")
        path += f".{key}"
        msg = f"missing required key {key!r}"
    elif err["type"] == "missing":
        msg = "missing required key"
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return InputError(source, path or None, msg + more)
