"""Follow a model pointer kept in a local file, as the local server does.

The same pointer format as in S3 (runtime/pointer.py), naming model files by ``file://``
URIs. The cold start reads the pointer and loads the model it names, pinned to the
pointer's SHA-256. After that, ``check`` costs one ``stat`` of the pointer file: only
when its identity (device, inode, size, modification time) changed is it read again,
the local counterpart of S3's conditional GET. Writers replace the file by a rename
(``exporter/learn.py`` does), so every change gives it a new inode. ``ModelHolder``
decides when to call ``check`` (at most once per MODEL_REFRESH_S).
"""

from __future__ import annotations

import os
import stat

from runtime.config import Settings
from runtime.model import Model, ModelError
from runtime.pointer import MAX_POINTER_BYTES, Pointer, PointerError, local_path, parse

Stamp = tuple[int, int, int, int]  # (st_dev, st_ino, st_size, st_mtime_ns)


def _stamp(status: os.stat_result) -> Stamp:
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


class FilePointerLoader:
    """The loader (``__call__``) and the refresh check (``check``) of a pointer file."""

    def __init__(self, settings: Settings) -> None:
        assert settings.source.kind == "pointer-file"
        self._path = settings.source.location
        self._max_bytes = settings.model_max_bytes
        self._stamp: Stamp | None = None  # of the pointer the served model came from
        self.pointer: Pointer | None = None

    def __call__(self) -> Model:
        """The model the pointer names now (the cold start, and retries after a failure)."""
        pointer, stamp = self._read_pointer()
        model = self._load(pointer)
        self.pointer, self._stamp = pointer, stamp
        return model

    def check(self, current: Model) -> Model | None:
        """A newly loaded model if the pointer moved to another file, else None.

        Raises ``ModelError`` when the pointer or its model cannot be read or verified;
        the caller keeps serving ``current``. The stamp is recorded only once the new
        model is loaded, so a failed refresh is tried again next time.
        """
        try:
            stamp = _stamp(os.stat(self._path))
        except OSError as exc:
            raise ModelError(f"cannot read the pointer {self._path}: {exc.strerror}") from None
        if stamp == self._stamp:
            return None
        pointer, stamp = self._read_pointer()
        if pointer.sha256 == current.model_id:  # rewritten, same model (e.g. a new history)
            self.pointer, self._stamp = pointer, stamp
            return None
        model = self._load(pointer)
        self.pointer, self._stamp = pointer, stamp
        return model

    def _read_pointer(self) -> tuple[Pointer, Stamp]:
        """The pointer and the stamp of the very file it was read from (fstat, not stat)."""
        try:
            # Non-blocking, and a regular file only: a FIFO at the path would hold the
            # refresh forever (requests keep the old model, but no new one would come).
            with open(os.open(self._path, os.O_RDONLY | os.O_NONBLOCK), "rb") as file:
                info = os.fstat(file.fileno())
                if not stat.S_ISREG(info.st_mode):
                    raise ModelError(f"the pointer {self._path} is not a regular file")
                stamp = _stamp(info)
                data = file.read(MAX_POINTER_BYTES + 1)
        except OSError as exc:
            raise ModelError(f"cannot read the pointer {self._path}: {exc.strerror}") from None
        try:
            return parse(data), stamp
        except PointerError as exc:
            raise ModelError(f"the pointer {self._path} is refused: {exc}") from None

    def _load(self, pointer: Pointer) -> Model:
        """The model file the pointer names, refused unless its SHA-256 is the pointer's."""
        path = local_path(pointer.model_uri)
        if path is None:
            raise ModelError(
                f"the pointer {self._path} names {pointer.model_uri[:200]}: "
                "a pointer file names model files (file://)"
            )
        try:
            return Model.from_path(path, expected_sha256=pointer.sha256, max_bytes=self._max_bytes)
        except ModelError as exc:
            raise ModelError(f"the model the pointer {self._path} names: {exc}") from None
