"""The local pointer file: the local server follows it as functions follow the S3 pointer,
and exporter/learn.py seeds, moves and rolls it back (runtime/pointer_file.py)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from localserver.server import main as serve_main
from runtime import pointer_file
from runtime.config import ConfigError, ModelSource, Settings, pointer_file_source
from runtime.learning.command import main as learn_main
from runtime.learning.objects import ObjectError, Objects
from runtime.model import ModelError
from runtime.model_source import ModelHolder
from runtime.pointer import ModelRef, Pointer, PointerError, file_uri, local_path, parse, render
from runtime.pointer_loader import PointerLoader
from runtime.reports import DirectoryReportStore
from tests.fakes import FakeClock
from tests.learning import fitted, report
from tests.runtime.learning.test_learning_guards import campaign_text

REFRESH_S = 30


class Files:
    """Two model files by their hashes, and the pointer file that names one of them."""

    def __init__(self, directory: Path, small_model: Path) -> None:
        self.directory = directory
        self.refs = [
            self.store(small_model.read_bytes()),
            self.store(fitted("multinomial_hashing").data),
        ]
        self.pointer = directory / "pointer.json"

    def store(self, data: bytes) -> ModelRef:
        sha256 = hashlib.sha256(data).hexdigest()
        path = self.directory / f"{sha256}.npz"
        path.write_bytes(data)
        return ModelRef(file_uri(str(path)), sha256)

    def point(self, ref: ModelRef | bytes) -> None:
        data = ref if isinstance(ref, bytes) else render(Pointer(ref))
        temporary = self.pointer.with_suffix(".tmp")
        temporary.write_bytes(data)
        temporary.replace(self.pointer)  # as learn.py writes it: a rename


@pytest.fixture
def files(tmp_path: Path, small_model_path: Path) -> Files:
    made = Files(tmp_path, small_model_path)
    made.point(made.refs[0])
    return made


def holder_for(files: Files, clock: FakeClock) -> ModelHolder:
    settings = Settings(source=pointer_file_source(str(files.pointer)), model_refresh_s=REFRESH_S)
    holder = ModelHolder.from_settings(settings, clock=clock)
    assert holder.get().model_id == files.refs[0].sha256
    return holder


def test_a_moved_pointer_file_is_served_within_the_interval(files: Files) -> None:
    clock = FakeClock()
    holder = holder_for(files, clock)
    files.point(files.refs[1])
    clock.advance(REFRESH_S - 0.001)
    assert holder.get().model_id == files.refs[0].sha256  # not looked at yet
    clock.advance(0.001)
    assert holder.get().model_id == files.refs[1].sha256  # no restart
    files.point(Pointer(files.refs[0], (files.refs[1],)).current)  # a rollback, followed too
    clock.advance(REFRESH_S)
    assert holder.get().model_id == files.refs[0].sha256


def test_an_unchanged_pointer_costs_a_stat_not_a_read(
    files: Files, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads, stats, real_stat = [], [], os.stat

    def counting_parse(data: bytes) -> Pointer:
        reads.append(1)
        return parse(data)

    def counting_stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        stats.append(path)
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(pointer_file, "parse", counting_parse)
    clock = FakeClock()
    holder = holder_for(files, clock)
    monkeypatch.setattr(pointer_file.os, "stat", counting_stat)
    for _ in range(5):  # five intervals, many requests each
        clock.advance(REFRESH_S)
        for _ in range(100):
            holder.get()
    assert (len(reads), len(stats)) == (1, 5)  # the cold start's read, one stat per interval
    files.point(render(Pointer(files.refs[0], (files.refs[1],))))  # rewritten, same model
    clock.advance(REFRESH_S)
    assert holder.get().model_id == files.refs[0].sha256
    assert len(reads) == 2
    clock.advance(REFRESH_S)
    holder.get()
    assert len(reads) == 2  # its stamp was recorded


@pytest.mark.parametrize(
    "breakage",
    ["wrong_sha256", "garbled", "deleted", "missing_model", "s3_model", "fifo"],
)
def test_a_broken_pointer_file_keeps_the_old_model_serving(
    files: Files, breakage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = FakeClock()
    holder = holder_for(files, clock)
    capsys.readouterr()
    good = files.refs[1]
    if breakage == "wrong_sha256":
        files.point(ModelRef(good.model_uri, files.refs[0].sha256[::-1]))
    elif breakage == "garbled":
        files.point(b'{"schema": 1, "model_uri": ')
    elif breakage == "deleted":
        files.pointer.unlink()
    elif breakage == "fifo":  # a refresh that waited on it would never end
        files.pointer.unlink()
        os.mkfifo(files.pointer)
    elif breakage == "missing_model":
        files.point(ModelRef(file_uri(str(files.directory / "gone.npz")), good.sha256))
    else:
        files.point(ModelRef("s3://bucket/models/m.npz", good.sha256))
    clock.advance(REFRESH_S)
    assert holder.get().model_id == files.refs[0].sha256
    (line,) = [json.loads(text) for text in capsys.readouterr().out.splitlines()]
    assert line["msg"] == "model_refresh_failed"
    assert str(files.pointer) in line["error"]
    if breakage == "fifo":
        files.pointer.unlink()
    files.point(good)  # repaired: taken at the next look
    clock.advance(REFRESH_S)
    assert holder.get().model_id == good.sha256


def test_file_uris_round_trip_and_are_absolute(tmp_path: Path) -> None:
    path = str(tmp_path / "a dir%" / "m #1?.npz")
    assert local_path(file_uri(path)) == path
    assert local_path("s3://bucket/key") is None
    with pytest.raises(PointerError, match="absolute path"):
        parse(render(Pointer(ModelRef(file_uri(path), "a" * 64))).replace(b"file:///", b"file://"))
    with pytest.raises(PointerError, match="absolute path"):
        render(Pointer(ModelRef("file://relative/m.npz", "a" * 64)))


def test_a_pointer_in_s3_never_loads_a_local_file(files: Files) -> None:
    source = ModelSource("pointer", "s3://bucket/pointer.json", "bucket", "pointer.json")
    loader = PointerLoader(Settings(source=source), client=object())
    with pytest.raises(ModelError, match="a pointer in S3 names models in S3"):
        loader._load(Pointer(files.refs[1]))


def test_learn_py_seeds_moves_and_rolls_back_a_pointer_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "export.npz"
    export.write_bytes(fitted("multinomial_hashing").data)
    pointer, models, reports = (str(tmp_path / n) for n in ("pointer.json", "models", "reports"))
    places = ["--pointer", pointer, "--models", models]
    assert learn_main([*places, "--promote", str(export)]) == 0
    seeded = parse(Path(pointer).read_bytes())
    assert seeded.sha256 == hashlib.sha256(export.read_bytes()).hexdigest()
    assert Path(local_path(seeded.model_uri) or "").read_bytes() == export.read_bytes()
    Path(reports).mkdir()
    store = DirectoryReportStore(reports)
    for i in range(6):
        store.put(report(campaign_text(i), "spam", f"user{i}"))
    assert learn_main([*places, "--reports", reports]) == 0
    learned = parse(Path(pointer).read_bytes())
    assert learned.previous == (seeded.current,)
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["learned"] == 6
    assert learn_main(["--pointer", pointer, "--reports", reports, "--rollback"]) == 0
    assert parse(Path(pointer).read_bytes()) == seeded


def test_a_pointer_file_changed_during_a_run_is_not_overwritten(files: Files) -> None:
    objects = Objects()
    current, etag = objects.read_pointer(str(files.pointer))
    assert current is not None
    files.point(files.refs[1])  # someone else moved it meanwhile
    with pytest.raises(ObjectError, match="changed while this run was learning"):
        objects.write_pointer(str(files.pointer), Pointer(files.refs[0]), etag)
    assert parse(files.pointer.read_bytes()).current == files.refs[1]


def test_a_pointer_and_its_models_are_both_local_or_both_in_s3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = learn_main(
        ["--pointer", str(tmp_path / "p.json"), "--models", "s3://b/models/", "--promote", "m"]
    )
    assert code == 2
    assert "both s3:// or both local" in json.loads(capsys.readouterr().out)["error"]


def test_the_local_server_refuses_a_pointer_beside_another_model_source(
    files: Files, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("MODEL_PATH", "MODEL_S3_URI", "MODEL_POINTER_S3_URI", "MODEL_REFRESH_S"):
        monkeypatch.setenv(name, "-")  # main() sets and removes these: restored afterwards
        monkeypatch.delenv(name)
    assert serve_main(["--pointer", str(files.pointer), "--model", "m.npz"]) == 2
    assert "not both" in capsys.readouterr().err
    monkeypatch.setenv("MODEL_SHA256", "a" * 64)
    assert serve_main(["--pointer", str(files.pointer)]) == 2
    assert "MODEL_SHA256 pins one file" in capsys.readouterr().err
    monkeypatch.delenv("MODEL_SHA256")
    assert serve_main(["--pointer", str(files.pointer), "--model-refresh-s", "0"]) == 2
    assert "MODEL_REFRESH_S must be at least 1" in capsys.readouterr().err
    with pytest.raises(ConfigError):
        pointer_file_source("")
