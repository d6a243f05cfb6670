"""Writing output files whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from jacobian_sym.errors import JacobianSymError


def write_atomic(path: Path, data: str | bytes) -> Path:
    """Write ``data`` to a temporary file in ``path``'s folder, then rename it over ``path``: a reader
    (or a failure) never sees a half-written file, and an existing file is kept until the new one
    is complete."""
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise JacobianSymError(f"cannot write {path}: the folder {folder} does not exist")
    if path.is_dir():
        raise JacobianSymError(f"cannot write {path}: it is a folder")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise JacobianSymError(f"cannot write {path}: {err.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data.encode("utf-8") if isinstance(data, str) else data)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise JacobianSymError(f"cannot write {path}: {err.strerror}") from None
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
