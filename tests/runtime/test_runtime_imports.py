"""The runtime needs NumPy at most: that is what keeps the Lambda package small.

And a cold start that answers one message imports no NumPy at all.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

from runtime.families import FAMILIES, family_class
from runtime.families.family import Family
from tests.paths import ROOT

RUNTIME = ROOT / "runtime"
# localserver/ is not shipped: nothing in runtime/ may need it.
FORBIDDEN = ("sklearn", "scipy", "joblib", "pandas", "exporter", "localserver")


def run_fresh(code: str, model_path: Path) -> str:
    """``code`` in a new interpreter serving ``model_path``; its standard output."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=RUNTIME.parent,
        env={**os.environ, "MODEL_PATH": str(model_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def test_importing_runtime_loads_no_training_stack(small_model_path: Path) -> None:
    code = (
        "import sys, json, runtime.model, runtime.handler; "
        "runtime.handler.lambda_handler({'body': 'free prize now'}, None); "
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    )
    stdout = run_fresh(code, small_model_path)
    # Importing the handler logs a model_loaded line first; the probe's list is last.
    loaded = set(json.loads(stdout.splitlines()[-1]))
    assert "runtime" in loaded  # the probe really imported the model code
    assert '"status":200' in stdout  # ... and answered with it
    assert loaded.isdisjoint(FORBIDDEN), loaded & set(FORBIDDEN)
    assert "numpy" not in loaded


def test_a_cold_start_imports_no_typing_and_one_family(small_model_path: Path) -> None:
    """typing costs ~4 ms of import and each unused family module more: the runtime names
    its types for type checkers only, and imports the family its model names (and
    unicodedata only for a model trained on another Python)."""
    code = (
        "import sys; assert 'typing' not in sys.modules, 'the interpreter loaded it itself'; "
        "import json, runtime.handler; "
        "response = runtime.handler.lambda_handler({'httpMethod': 'POST', 'path': '/predict', "
        "'headers': {'Content-Type': 'application/json'}, 'body': '{\"text\": \"hi\"}'}, None); "
        "print(json.dumps([response['statusCode'], 'typing' in sys.modules, "
        "'unicodedata' in sys.modules, "
        "runtime.handler.ADAPTER.api.holder.get().family_name, "
        "sorted(m for m in sys.modules if m.startswith('runtime.families.'))]))"
    )
    status, typing_loaded, tables_loaded, family, modules = json.loads(
        run_fresh(code, small_model_path).splitlines()[-1]
    )
    assert (status, typing_loaded) == (200, False)
    assert not tables_loaded  # trained on this Python: its Unicode tables need no look
    module = FAMILIES[family][0]
    assert modules == sorted({f"runtime.families.{name}" for name in ("common", "family", module)})


def test_every_registered_family_names_its_scorer_class() -> None:
    for name in FAMILIES:
        scorer = family_class(name)
        assert issubclass(scorer, Family), name
        for declared in ("score_method", "score_name", "binary_columns", "explained", "arrays"):
            assert hasattr(scorer, declared), (name, declared)


def test_no_runtime_module_imports_training_code() -> None:
    for path in RUNTIME.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path}: imports {name}"
