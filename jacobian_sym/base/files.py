"""Writing output files whole or not at all."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from jacobian_sym.errors import JacobianSymError


def write_atomic(path: Path, data: str | bytes) -> Path:
    """Write ``data`` to a temporary file in ``path``'s folder, then rename it over ``path``: a reader
    (or a failure) never sees a half-written file, and an existing file is kept until the new one
    is complete.

    Only a regular file is replaced. A symlink is followed: the file it points to is replaced and the
    link kept. A character device or a FIFO (``/dev/null``, ``/dev/stdout``, a pipe) is written
    through, never replaced by a regular file; a block device or a socket is refused."""
    path = Path(path)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    try:
        mode = path.stat().st_mode
    except OSError:
        mode = None
    if mode is not None and (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        return _write_through(path, data)
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        raise JacobianSymError(f"cannot write {path}: it is neither a regular file, a character device nor a FIFO")
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


def _write_through(path: Path, data: str | bytes) -> Path:
    """Write into a device or a pipe as it is (it cannot be replaced, and must not be)."""
    try:
        with open(path, "wb") as out:
            out.write(data.encode("utf-8") if isinstance(data, str) else data)
    except OSError as err:
        raise JacobianSymError(f"cannot write {path}: {err.strerror}") from None
    return path


#: the largest input file read (a document, a model or context file): 8 MB
MAX_INPUT_BYTES = 8 * 2**20


def read_text_capped(path: Path, what: str, limit: int = MAX_INPUT_BYTES) -> str:
    """The UTF-8 text of the regular file ``path`` (a symlink is followed), read only when it is a
    regular file of at most ``limit`` bytes: a directory, a FIFO, a device (a link to /dev/zero) or a
    file that grows past the limit is refused in one line before it is read whole."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except OSError as err:
        raise JacobianSymError(f"{path}: cannot read the {what} ({err.strerror})") from None
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "a device or socket"
        raise JacobianSymError(f"{path}: cannot read the {what}: it is {kind}, not a regular file")
    try:
        with open(path, "rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as err:
        raise JacobianSymError(f"{path}: cannot read the {what} ({err.strerror})") from None
    if len(raw) > limit:
        raise JacobianSymError(f"{path}: the {what} is larger than {limit // 2**20} MB, the limit")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise JacobianSymError(f"{path}: the {what} is not UTF-8 text (byte {err.start})") from None
