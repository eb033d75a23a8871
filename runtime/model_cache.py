"""The /tmp copy of the S3 model, trusted only once it matches a digest from elsewhere.

/tmp outlives a container inside its execution environment, and whatever can write there
can rewrite the copy, so the copy proves nothing by itself: it is served only when its
SHA-256 equals the pin (``MODEL_SHA256``) or the ``sha256`` recorded on the S3 object
(which the upload command sets). There is no sidecar file to trust or to damage. Anything
wrong with the copy (missing, unreadable, too large, different) is a miss, and the next
successful download replaces it.
"""

from __future__ import annotations

import contextlib
import os
from _thread import get_ident

from runtime import logs

# The model id's own hash (without importing hashlib) and the bounded read.
from runtime.modelfile import FileTooLarge, read_bounded, sha256_hex
from runtime.records import NamedTuple


class CachedCopy(NamedTuple):
    data: bytes
    sha256: str  # of ``data``, computed when it was read


class ModelCache:
    """One cached object: ``read`` returns its bytes and digest, ``write`` replaces it."""

    def __init__(self, path: str, max_bytes: int) -> None:
        self.path = path
        self._max_bytes = max_bytes

    def read(self) -> CachedCopy | None:
        try:
            data = read_bounded(self.path, self._max_bytes, regular=True)
        except (OSError, FileTooLarge):
            return None
        return CachedCopy(data, sha256_hex(data))

    def write(self, data: bytes) -> None:
        """Replace the copy atomically; a failure (full disk, unwritable dir) costs only it."""
        temporary = f"{self.path}.{os.getpid()}.{get_ident()}.tmp"
        created = False
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            # O_EXCL: never write through a file (or symlink) someone else left at this name.
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            created = True
            with open(descriptor, "wb") as file:
                file.write(data)
            os.replace(temporary, self.path)
        except OSError as exc:
            if created:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
            logs.emit({"level": "WARNING", "msg": "model_cache_unwritable", "error": str(exc)})
