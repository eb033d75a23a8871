"""The learning loop of docs/learning.md, run as written in a fresh copy of the repository.

Export a learnable model, seed a pointer file, serve it, report, learn, see the learned
model served without a restart, then forget and see the export's model served again.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.paths import ROOT
from tests.project.test_readme import clone, decode_all, free_port, sh_blocks  # noqa: F401 (fixture)

LEARNING = ROOT / "docs" / "learning.md"
SECTION = "The whole loop on your machine"


@pytest.mark.slow
def test_the_documented_loop_learns_and_forgets_without_a_restart(
    clone: Path,  # noqa: F811
    full_dataset_path: Path,
) -> None:
    shared = clone.parent / "shared" / "data"
    if not shared.exists():
        shared.mkdir(parents=True)
        (shared / "spam.csv").symlink_to(full_dataset_path)
    (block,) = sh_blocks(LEARNING, SECTION)
    port = str(free_port())
    assert block.count("localhost:8080") >= 5
    assert "--port 8080 " in block
    block = block.replace("localhost:8080", f"localhost:{port}").replace("8080", port)
    lines = block.splitlines()
    # Mark where each answer starts, so the printed JSON can be told apart.
    marked = []
    for line in lines:
        predict = line.startswith("curl -s localhost") and "/predict" in line
        marked += ["echo; echo '--- predict'", line, "echo; echo '--- end'"] if predict else [line]
    script = "\n".join(["set -euo pipefail", *marked])
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
    answers = []
    for part in done.stdout.split("--- predict\n")[1:]:
        printed = decode_all(part.split("--- end\n", 1)[0])  # the answer and the server's lines
        (answer,) = [value for value in printed if "label" in value]
        answers.append(answer)
    before, learned, forgotten = answers
    export = (clone / "artifacts" / "learnable.npz").read_bytes()
    export_sha256 = hashlib.sha256(export).hexdigest()
    assert before["model"] == export_sha256
    assert learned["model"] != export_sha256  # the learned model, served without a restart
    assert (before["label"], learned["label"]) == ("ham", "spam")
    assert forgotten == before  # the export again, the same answer
    served = clone / "artifacts" / "models" / f"{forgotten['model']}.npz"
    assert served.read_bytes() == export  # forgetting gives the export back, byte for byte
    pointer = json.loads((clone / "artifacts" / "pointer.json").read_text())
    assert pointer["sha256"] == export_sha256
    assert [entry["sha256"] for entry in pointer["previous"]] == [learned["model"], export_sha256]
    assert not list((clone / "artifacts" / "reports").glob("*.json"))  # forgotten: deleted
    assert "model_refreshed" in done.stdout + done.stderr
