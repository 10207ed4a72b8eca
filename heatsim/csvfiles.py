"""Reading the small CSV files users give (weather, rain, hydrographs): UTF-8 text, `#`
comment lines and blank lines skipped, one header row, every row as long as the header;
each problem is one :class:`~heatsim.errors.InputError` naming the file and the line."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from heatsim.errors import InputError


def read_csv_table(path: Path, kind: str, *, empty_hint: str = "a header row and data rows (CSV)",
                   check_header=None) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, data rows (as strings) and each row's line number in the file.

    ``kind`` names the file in messages ("no such weather file"); ``check_header(path,
    header)`` is called as soon as the header is read, before any row is checked.
    """
    if not path.is_file():
        raise InputError(path, None, f"no such {kind} file" if not path.exists() else "not a file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, None, f"not a UTF-8 text file ({exc.reason} at byte {exc.start})") from None
    header: list[str] | None = None
    header_line = 0
    rows: list[list[str]] = []
    lines: list[int] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = [f.strip() for f in next(csv.reader(io.StringIO(stripped)))]
        if header is None:
            header, header_line = fields, lineno
            if check_header is not None:
                check_header(path, header)
            continue
        if len(fields) != len(header):
            raise InputError(path, f"line {lineno}",
                             f"{len(fields)} values, but the header (line {header_line}) names {len(header)} columns")
        rows.append(fields)
        lines.append(lineno)
    if header is None:
        raise InputError(path, None, f"empty: expected {empty_hint}")
    return header, rows, lines
