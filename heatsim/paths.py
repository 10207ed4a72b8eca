"""Where the bundled inputs and scenarios are, and where results go.

heatsim is installed from its checkout (``pip install -e .``), so the bundled
``inputs/`` and ``scenarios/`` folders sit next to the package. Results are
written under ``results/`` in the current directory unless told otherwise.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def inputs_dir() -> Path:
    return PROJECT_ROOT / "inputs"


def scenarios_dir() -> Path:
    return PROJECT_ROOT / "scenarios"


def results_dir() -> Path:
    return Path.cwd() / "results"


def cache_dir() -> Path:
    """Where results worth keeping between runs live (sky view factors): ``$HEATSIM_CACHE``,
    else ``$XDG_CACHE_HOME/heatsim``, else ``~/.cache/heatsim``. Safe to delete."""
    if os.environ.get("HEATSIM_CACHE"):
        return Path(os.environ["HEATSIM_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "heatsim"


def new_path(path: Path) -> Path:
    """``path`` if nothing is there yet, else ``stem-2.ext``, ``stem-3.ext``, ...: never overwrite."""
    path = Path(path)
    if not path.exists():
        return path
    k = 2
    while (candidate := path.with_name(f"{path.stem}-{k}{path.suffix}")).exists():
        k += 1
    return candidate


def sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, hex (for provenance)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomically(path: Path, write) -> Path:
    """Call ``write(tmp_path)`` then rename the finished file to ``path``.

    A reader never sees a half-written file. ``path`` is taken as given: call
    :func:`new_path` first to avoid replacing an earlier result.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600; results are for others to read
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
