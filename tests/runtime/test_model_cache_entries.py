"""Issue 20: whatever sits at the cache entry, reading it ends, and within the deadline.

A FIFO at the entry once hung the cold start forever: ``ModelCache.read`` opened it
(blocking, until a writer came) before checking what it was, outside the S3 deadline
and while holding the model holder's lock. Each read here runs in a daemon thread with
a timeout, so a read that never ends fails the test instead of hanging it.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from runtime.model_cache import ModelCache

WAIT = 5.0  # seconds a read may take before the test calls it hung


def read_in_thread(cache: ModelCache, **kwargs: Any) -> Any:
    outcome: list[Any] = []
    reader = threading.Thread(target=lambda: outcome.append(cache.read(**kwargs)), daemon=True)
    reader.start()
    reader.join(WAIT)
    assert not reader.is_alive(), "the cache read did not end"
    return outcome[0]


def test_a_fifo_at_the_entry_is_a_miss_at_once(tmp_path: Path) -> None:
    entry = tmp_path / "model.npz"
    os.mkfifo(entry)
    assert read_in_thread(ModelCache(str(entry), 1 << 20)) is None


def test_a_character_device_at_the_entry_is_a_miss(tmp_path: Path) -> None:
    entry = tmp_path / "model.npz"
    try:
        os.mknod(entry, stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero's numbers
    except PermissionError:
        pytest.skip("creating a device node needs CAP_MKNOD")
    assert read_in_thread(ModelCache(str(entry), 1 << 20)) is None


@pytest.mark.parametrize("target", ["file", "fifo", "/dev/zero"])
def test_a_symlink_at_the_entry_is_never_followed(tmp_path: Path, target: str) -> None:
    entry = tmp_path / "model.npz"
    if target == "file":
        pointed = tmp_path / "elsewhere.npz"
        pointed.write_bytes(b"model bytes")
    elif target == "fifo":
        pointed = tmp_path / "pipe"
        os.mkfifo(pointed)
    else:
        pointed = Path(target)
    entry.symlink_to(pointed)
    assert read_in_thread(ModelCache(str(entry), 1 << 20)) is None


def test_a_regular_file_is_read(tmp_path: Path) -> None:
    entry = tmp_path / "model.npz"
    entry.write_bytes(b"model bytes")
    copy = read_in_thread(ModelCache(str(entry), 1 << 20), deadline=time.monotonic() + WAIT)
    assert copy is not None
    assert copy.data == b"model bytes"


def test_a_read_past_the_deadline_is_a_miss(tmp_path: Path) -> None:
    entry = tmp_path / "model.npz"
    entry.write_bytes(b"model bytes")
    assert read_in_thread(ModelCache(str(entry), 1 << 20), deadline=time.monotonic() - 1) is None


def test_a_file_larger_than_the_limit_is_a_miss(tmp_path: Path) -> None:
    entry = tmp_path / "model.npz"
    entry.write_bytes(b"x" * 100)
    assert read_in_thread(ModelCache(str(entry), 99)) is None
