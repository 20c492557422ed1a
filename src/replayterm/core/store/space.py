"""Reserving disk space for a file that is about to be written through a memory map.

A page of a mapping written when the disk is full kills the process with SIGBUS, so the blocks
are allocated up front: with ``os.posix_fallocate`` where the OS has it (Linux, the BSDs), with a
free-space check where it does not (macOS, Windows) or where the filesystem refuses it
(``EOPNOTSUPP``/``EINVAL``: tmpfs on old kernels, some network and FUSE filesystems). Only a real
shortage (``ENOSPC``/``EDQUOT``) is reported as "no room".
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

# Errors that mean "this filesystem does not do fallocate", not "the disk is full".
_UNSUPPORTED = {errno.EOPNOTSUPP, errno.EINVAL, getattr(errno, "ENOTSUP", errno.EOPNOTSUPP), errno.ENOSYS}
_NO_ROOM = {errno.ENOSPC, errno.EDQUOT}


def no_room_error(path: Path, needed: int, detail: str) -> OSError:
    return OSError(
        errno.ENOSPC,
        f"no room for the replay index in {path.parent.parent} ({detail}; {needed} bytes needed); "
        "free some disk space or point REPLAYTERM_CACHE_DIR at a larger disk",
    )


def check_free(path: Path, needed: int) -> None:
    """Raise the "no room" error when the filesystem holding ``path`` has less than ``needed``
    bytes free (the fallback where blocks cannot be allocated in advance)."""
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return  # cannot tell: let the write itself fail if it must
    if free < needed:
        raise no_room_error(path, needed, f"{free} bytes free")


def reserve(path: Path) -> None:
    """Allocate the blocks of ``path`` (its current size) so that writing its map cannot fail."""
    size = path.stat().st_size
    if size == 0:
        return
    fallocate = getattr(os, "posix_fallocate", None)
    if fallocate is None:
        check_free(path, size)
        return
    fd = os.open(path, os.O_RDWR)
    try:
        fallocate(fd, 0, size)
    except OSError as exc:
        if exc.errno in _NO_ROOM:
            raise no_room_error(path, size, exc.strerror or "disk full") from None
        if exc.errno in _UNSUPPORTED:
            check_free(path, size)
            return
        raise
    finally:
        os.close(fd)
