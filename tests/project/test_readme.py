"""The README as a newcomer follows it, and every command in docs/ as written.

- The README stays short, and its links lead somewhere.
- Its quick start and five-minute tour run, block by block, in a copy of the repository with
  a venv made the way the quick start makes it (offline: the packages come from this test's
  environment): export, serve, the curl lines (a greeting is ham), and the builds.
- Every command in the README and docs/ parses, names files that exist, and passes only
  options its own --help lists. The deploy blocks need AWS: tests/project/test_deploy_commands.py
  runs the first against a local moto server.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from tests.paths import ROOT
from tests.project.test_install import make_venv, pip_install

README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
# Pages other work adds to docs/; the README links them already.
PENDING_PAGES: set[str] = set()  # pages linked before they land; none now
BIN = Path(sys.executable).parent


def sh_blocks(path: Path, section: str | None = None) -> list[str]:
    text = path.read_text()
    if section is not None:
        text = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return list(re.findall(r"```sh\n(.*?)```", text, re.S))


def test_the_readme_is_short_and_its_links_lead_somewhere() -> None:
    text = README.read_text()
    assert len(text.splitlines()) <= 200
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        if target.startswith("http"):
            continue
        if Path(target).name in PENDING_PAGES:
            continue
        assert (ROOT / target).exists(), target


def test_docs_pages_link_to_files_that_exist() -> None:
    for page in DOCS:
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text()):
            if target.startswith("http") or Path(target).name in PENDING_PAGES:
                continue
            assert (page.parent / target).exists(), f"{page.name}: {target}"


# --- the tour, run -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's tracked files in <tmp>/repo, with .venv made as the quick start
    makes it (pip install -e), and ../shared/data/ beside it as on the dev machine."""
    base = tmp_path_factory.mktemp("newcomer")
    repo = base / "repo"
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, tracked.split("\0")):
        source = ROOT / name
        if source.is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)
    # A newcomer's copy is a git clone: build_zip ships only the files git tracks.
    git = ["git", "-c", "user.name=newcomer", "-c", "user.email=newcomer@example.invalid"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "clone"]):
        subprocess.run([*git, *args], cwd=repo, check=True, capture_output=True)
    python = make_venv(repo / ".venv")
    pip_install(python, repo, "-e")
    (ROOT / ".cache").mkdir(exist_ok=True)
    (repo / ".cache").symlink_to(ROOT / ".cache")  # the NumPy wheel, downloaded once
    return repo


@pytest.mark.slow
def test_the_quick_start_and_the_tour_run_as_written(clone: Path, full_dataset_path) -> None:
    (clone.parent / "shared" / "data").mkdir(parents=True)
    (clone.parent / "shared" / "data" / "spam.csv").symlink_to(full_dataset_path)
    setup, main = quick_start_commands()[0].split(" && .venv/bin/spam-export", 1)
    assert setup.endswith(".venv/bin/pip install -e '.[train]'")
    export, serve, ask, build = sh_blocks(README, "A five-minute tour")
    port = str(free_port())
    serve = serve.replace("--port 8080", f"--port {port}")
    ask = ask.replace("localhost:8080", f"localhost:{port}")
    assert f"--port {port} &" in serve
    script = "\n".join(
        [
            "set -euo pipefail",
            # A failing step must not leave the server holding this test's output pipe.
            "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT",
            ".venv/bin/spam-export" + main,
            export,
            serve,
            f"for _ in $(seq 100); do curl -s localhost:{port}/health >/dev/null && break; "
            "sleep 0.2; done",
            "echo '--- answers'",
            ask,
            "echo; echo '--- build'",
            build,
            "kill %1",
        ]
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPAM_DATA", "MODEL_"))}
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    printed = decode_all(done.stdout.split("--- answers\n", 1)[1].split("--- build", 1)[0])
    logged = [line for line in printed if "msg" in line]  # the server's lines, same terminal
    greeting, explained, batch, health = [line for line in printed if "msg" not in line]
    assert [line["msg"] for line in logged] == ["request"] * 4  # one short line each, no EMF
    assert greeting["label"] == "ham"  # the quick start's model: a greeting is ham
    assert explained["label"] == "spam"
    assert len(explained["explanation"]["terms"]) == 3
    assert [p["label"] for p in batch["predictions"]] == ["ham", "spam"]
    assert (health["family"], health["no_known_words"], health["note"]) == (
        "calibrated",
        "ham",
        None,
    )
    assert "note:" not in done.stdout  # the recommended recipe needs no caveat
    assert (clone / "dist" / "lambda-python3.13-x86_64.zip").is_file()
    assert (clone / "dist" / "lambda-python3.13-without-numpy.zip").is_file()


def quick_start_commands() -> list[str]:
    return [block.strip() for block in sh_blocks(README, "Quick start")]


def decode_all(text: str) -> list[dict]:
    """curl -s prints answers back to back, without newlines between them."""
    decoder, values, index = json.JSONDecoder(), [], 0
    while index < len(text):
        if text[index].isspace():
            index += 1
            continue
        value, index = decoder.raw_decode(text, index)
        values.append(value)
    return values


# --- every command in README and docs/: parses, names what exists ------------------------


def command_lines(path: Path) -> Iterator[tuple[str, str]]:
    for block in sh_blocks(path):
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                yield block, line


@cache
def help_text(*command: str) -> str:
    done = subprocess.run(
        [*command, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"{command} --help: {done.stderr[-500:]}"
    return done.stdout


def resolve(words: list[str]) -> tuple[tuple[str, ...], list[str]] | None:
    """(the command to ask for --help, its arguments), or None for other programs."""
    first = words[0]
    if first.startswith(".venv/bin/spam-"):
        return (str(BIN / Path(first).name),), words[1:]
    if first == ".venv/bin/python" and words[1] == "-m":
        module = words[2]
        assert module.split(".")[0] in {"benchmarks", "localserver", "pytest"}, module
        return (sys.executable, "-m", module), words[3:]
    if first == ".venv/bin/python":
        assert (ROOT / words[1]).is_file(), words[1]
        return (sys.executable, str(ROOT / words[1])), words[2:]
    if first.startswith("scripts/"):
        assert (ROOT / first).is_file(), first
        return ("bash", str(ROOT / first)), words[1:]
    return None


PAGES = [README, *DOCS]


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_command_parses_and_names_files_and_options_that_exist(page: Path) -> None:
    for block in sh_blocks(page):
        parsed = subprocess.run(["bash", "-n"], input=block, capture_output=True, text=True)
        assert parsed.returncode == 0, f"{page.name}: {parsed.stderr}\n{block}"
    for _, line in command_lines(page):
        words = shlex.split(line.split(" &", 1)[0], comments=True)
        if not words:
            continue
        resolved = resolve(words)
        if resolved is None:
            assert words[0] in {"curl", "aws", "sam", "kill", "sleep"} or "=" in words[0], line
            continue
        command, arguments = resolved
        if command[-1] == "pytest":
            continue
        listed = help_text(*command)
        for word in arguments:
            if word.startswith("--") and word != "--":
                option = word.split("=", 1)[0]
                assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", listed), (
                    f"{page.name}: {option} is not an option of {Path(command[-1]).name}: {line}"
                )
