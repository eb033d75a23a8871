"""Peak memory of a cold start with the model on S3, measured in a fresh interpreter.

Each case imports the handler (the cold start), answers one request and reports its own
peak RSS: VmHWM, the high-water mark of its own address space. Not ``ru_maxrss``: Linux
carries the old address space's peak across exec, and subprocess vforks from pytest, so
``ru_maxrss`` would report pytest's ~150 MiB (benchmarks/launcher.py explains the same
trap; from a small parent the two agree). The bounds are loose ceilings, not benchmarks:
they catch a load that holds the object several times over, reads an object it is about
to refuse, or imports boto3 when the pinned /tmp copy makes S3 unnecessary. For the
figures themselves: ``python -m tests.runtime.test_s3_memory MODEL.npz [RUNS]``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import ROOT as PROJECT_ROOT
from tests.s3proxy import s3_proxy
from tests.s3server import moto_server

# Its tests take seconds each: outside the fast loop (-m "not slow").
pytestmark = pytest.mark.slow

MIB = 1024 * 1024
JUNK_MIB = 24
KEY = "memory/model.npz"

COLD_START = """
import json, sys
import runtime.handler as handler
answer = handler.lambda_handler({"body": "WINNER!! claim your free prize now"}, None)
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
boto3 = "boto3" in sys.modules
print(json.dumps({"status": answer["statusCode"], "boto3": boto3, "peak_kib": peak}))
"""


def cold_start(env: dict[str, str]) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MODEL_", "OPENBLAS"))}
    done = subprocess.run(
        [sys.executable, "-c", COLD_START],
        cwd=PROJECT_ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(done.stdout.splitlines()[-1])
    return {**report, "peak_mib": report["peak_kib"] / 1024}


def measure(model_path: Path, cache_dir: Path, runs: int = 1) -> dict[str, list[dict]]:
    """Path, S3 download, and S3 with the pinned copy already in /tmp; needs moto running."""
    data = model_path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    results: dict[str, list[dict]] = {
        "path": [],
        "s3_download": [],
        "s3_pinned_copy": [],
        "s3_600mib_refused": [],
        "s3_24mib_junk": [],
    }
    with moto_server() as s3:
        bucket = s3.bucket()
        s3.client.put_object(Bucket=bucket, Key=KEY, Body=data, Metadata={"sha256": digest})
        # Downloaded in full (it is under MODEL_MAX_BYTES), then refused: not a model file.
        s3.client.put_object(Bucket=bucket, Key="junk.npz", Body=bytes(JUNK_MIB * MIB))
        s3_env = {"MODEL_S3_URI": f"s3://{bucket}/{KEY}", "MODEL_S3_ENDPOINT_URL": s3.endpoint_url}
        for run in range(runs):
            results["path"].append(cold_start({"MODEL_PATH": str(model_path)}))
            fresh = str(cache_dir / f"run{run}")
            results["s3_download"].append(
                cold_start({**s3_env, "MODEL_CACHE_DIR": fresh, "MODEL_SHA256": digest})
            )
            results["s3_pinned_copy"].append(
                cold_start({**s3_env, "MODEL_CACHE_DIR": fresh, "MODEL_SHA256": digest})
            )
            with s3_proxy(s3.endpoint_url, "huge") as proxy:  # Content-Length: 600 MiB
                huge_env = {**s3_env, "MODEL_S3_ENDPOINT_URL": proxy.endpoint_url}
                results["s3_600mib_refused"].append(
                    cold_start({**huge_env, "MODEL_CACHE_DIR": str(cache_dir / f"huge{run}")})
                )
            junk_env = {**s3_env, "MODEL_S3_URI": f"s3://{bucket}/junk.npz"}
            results["s3_24mib_junk"].append(
                cold_start({**junk_env, "MODEL_CACHE_DIR": str(cache_dir / f"junk{run}")})
            )
    return results


def test_s3_cold_start_peak_memory(small_model_path, tmp_path):
    results = {name: runs[0] for name, runs in measure(small_model_path, tmp_path).items()}
    refused = results.pop("s3_600mib_refused")
    junk = results.pop("s3_24mib_junk")
    assert {report["status"] for report in results.values()} == {200}
    assert refused["status"] == 503
    assert refused["peak_mib"] < results["s3_download"]["peak_mib"] + 8  # no body was held
    # A downloaded object is held once (chunks joined into a second copy would need 2x).
    assert junk["status"] == 503
    assert junk["peak_mib"] < results["s3_download"]["peak_mib"] + 1.5 * JUNK_MIB
    assert results["s3_download"]["boto3"] is True
    assert results["s3_download"]["peak_mib"] < 128  # Lambda's smallest memory size
    # The pinned copy in /tmp is verified by its digest alone: boto3 is never imported.
    assert results["s3_pinned_copy"]["boto3"] is False
    assert results["s3_pinned_copy"]["peak_mib"] < results["path"]["peak_mib"] + 8


def _main() -> None:  # pragma: no cover - a measuring tool, run by hand
    import statistics
    import tempfile

    model = Path(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with tempfile.TemporaryDirectory() as directory:
        results = measure(model, Path(directory), runs)
    print(f"{model} ({model.stat().st_size} bytes), {runs} runs, {sys.version.split()[0]}")
    for name, reports in results.items():
        peaks = sorted(report["peak_mib"] for report in reports)
        print(
            f"{name:17} median {statistics.median(peaks):6.1f} MiB  "
            f"(min {peaks[0]:.1f}, max {peaks[-1]:.1f}), boto3 imported: {reports[0]['boto3']}"
        )


if __name__ == "__main__":
    with pytest.MonkeyPatch.context():
        _main()
