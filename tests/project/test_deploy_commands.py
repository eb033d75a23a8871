"""The README's deploy commands, run as a newcomer would, against a local moto server.

The real AWS CLI (pinned in requirements-dev.txt) and exporter/upload.py talk HTTP to moto
with fake credentials; only `sam` is stood in for (moto cannot expand a SAM template): the
stand-in checks the parameters it is given against template.yaml (and refuses an empty
`Name=` as SAM CLI 1.170 does) and creates a stack with the template's outputs, so
`describe-stacks` has something real to read.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import build_zip
from tests.corpus import tutorial_model_bytes
from tests.paths import ROOT
from tests.project.test_template import load_template
from tests.s3server import MotoS3, closed_port_endpoint, moto_server

# Left out of the fast loop (`-m "not slow"`): S3 servers, the AWS CLI and builds.
pytestmark = pytest.mark.slow

README = ROOT / "README.md"
SCRIPTS = ROOT / "scripts"
BIN = Path(sys.executable).parent  # the venv's, where pip put `aws`
STACK = "sms-spam-lambda"
TEMPLATE = ROOT / "template.yaml"
API_BASE = "https://abc123.execute-api.eu-west-1.amazonaws.com/Prod"


def readme_deploy_commands() -> str:
    """The first sh block of the README's "Deploy to AWS" section, as a user copies it."""
    section = README.read_text().split("## Deploy to AWS", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert blocks, "the deploy section has no sh block"
    return blocks[0]


# Stands in for `sam deploy`: records its arguments, refuses parameters the template does
# not have or leaves without a value, and creates (or updates) a stack with its outputs.
SAM_STANDIN = """
import json, os, sys
from pathlib import Path
import boto3, yaml
sys.path.insert(0, {root!r})
from tests.project.test_template import load_template

args = sys.argv[1:]
assert args[0] == "deploy", args
with open(os.environ["SAM_ARGS_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
stack = args[args.index("--stack-name") + 1]
given = [a.split("=", 1) for a in args[args.index("--parameter-overrides") + 1 :]]
template_file = args[args.index("--template-file") + 1]
declared = load_template(Path(template_file))["Parameters"]
empty = [name for name, value in given if value == ""]
if empty:  # the real `sam deploy` refuses a bare Name=; Name="" is how to give an empty value
    sys.exit(f"Error: Invalid value for '--parameter-overrides': {{empty[0]}}= (empty)")
overrides = {{name: value.removeprefix('"').removesuffix('"') for name, value in given}}
unknown = set(overrides) - set(declared)
missing = {{n for n, p in declared.items() if "Default" not in p}} - set(overrides)
if unknown or missing:
    sys.exit(f"sam stand-in: unknown parameters {{unknown}}, missing {{missing}}")
template = {{
    "Parameters": {{"ModelSha256": {{"Type": "String"}}}},
    "Resources": {{"Handle": {{"Type": "AWS::CloudFormation::WaitConditionHandle"}}}},
    "Outputs": {{
        "PredictUrl": {{"Value": {api!r} + "/predict"}},
        "HealthUrl": {{"Value": {api!r} + "/health"}},
    }},
}}
cfn = boto3.client("cloudformation")
request = dict(
    StackName=stack,
    TemplateBody=json.dumps(template),
    Parameters=[{{"ParameterKey": "ModelSha256", "ParameterValue": overrides["ModelSha256"]}}],
)
exists = any(s["StackName"] == stack for s in cfn.list_stacks()["StackSummaries"])
(cfn.update_stack if exists else cfn.create_stack)(**request)
"""


@dataclass
class Workplace:
    """A moto server and the environment a newcomer's shell would have."""

    s3: MotoS3
    env: dict[str, str]
    tmp: Path

    def run(
        self, script: str, *, extra_env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", script],
            cwd=ROOT,
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    def sam_calls(self) -> list[list[str]]:
        log = Path(self.env["SAM_ARGS_LOG"])
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def workplace(tmp_path: Path) -> Iterator[Workplace]:
    if shutil.which("aws", path=str(BIN)) is None:
        pytest.fail(f"the AWS CLI is not in {BIN}: install requirements-dev.txt")
    config = tmp_path / "aws-config"
    config.write_text("[default]\nregion = eu-west-1\n")  # as `aws configure` leaves it
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    sam = fake_bin / "sam"
    sam.write_text(f"#!{sys.executable}\n" + SAM_STANDIN.format(root=str(ROOT), api=API_BASE))
    sam.chmod(0o755)
    with moto_server() as s3:
        env = {
            "PATH": os.pathsep.join([str(BIN), str(fake_bin), "/usr/bin", "/bin"]),
            # The user's home: where pyenv keeps the target Python the build needs. AWS reads
            # nothing from it: both of its files are set below.
            "HOME": str(Path.home()),
            **{k: v for k, v in os.environ.items() if k == "PYENV_ROOT"},
            "LANG": "C.UTF-8",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": str(config),
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ENDPOINT_URL": s3.endpoint_url,  # every service, the CLI's and boto3's
            "AWS_MAX_ATTEMPTS": "1",
            "PYTHON": sys.executable,
            "DIST_DIR": str(tmp_path / "dist"),
            "SAM_ARGS_LOG": str(tmp_path / "sam-calls.jsonl"),
        }
        yield Workplace(s3, env, tmp_path)


def overrides_of(call: list[str]) -> dict[str, str]:
    """--parameter-overrides as SAM reads them: Name=Value, a value's double quotes removed."""
    pairs = (a.split("=", 1) for a in call[call.index("--parameter-overrides") + 1 :])
    return {name: value.removeprefix('"').removesuffix('"') for name, value in pairs}


def deployed_code(call: list[str]) -> tuple[str, str]:
    """(bucket, key) of the zip every function of the deployed template runs: deploy.sh
    deploys template.yaml with each `CodeUri: .` (what `sam build` builds) set to its upload."""
    deployed = Path(call[call.index("--template-file") + 1])
    source, target = TEMPLATE.read_text().splitlines(), deployed.read_text().splitlines()
    changed = {(a.strip(), b.strip()) for a, b in zip(source, target, strict=True) if a != b}
    ((before, after),) = changed
    assert before == "CodeUri: ."
    uris = {
        r["Properties"]["CodeUri"]
        for r in load_template(deployed)["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
    }
    assert uris == {after.removeprefix("CodeUri: ")}
    bucket, key = after.removeprefix("CodeUri: s3://").split("/", 1)
    return bucket, key


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def printed(stdout: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in stdout.splitlines() if "=" in line)


def assert_private_bucket_in(s3: MotoS3, bucket: str, region: str) -> None:
    location = s3.client.get_bucket_location(Bucket=bucket)["LocationConstraint"]
    assert (location or "us-east-1") == region
    block = s3.client.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"],
        True,
    )


# --- publish-model.sh: the commands that touch S3 ---------------------------------------------


@pytest.mark.parametrize(
    ("config_region", "env_region", "expected"),
    [
        ("eu-west-1", {}, "eu-west-1"),  # `aws configure` only: what the old README missed
        (None, {"AWS_DEFAULT_REGION": "eu-central-1"}, "eu-central-1"),  # CLI v1 style
        (None, {"AWS_REGION": "us-east-1"}, "us-east-1"),  # the region without a constraint
    ],
    ids=["cli-config", "aws-default-region", "us-east-1"],
)
def test_publish_model_creates_a_private_bucket_in_the_users_region_and_uploads_the_model(
    workplace: Workplace,
    small_model_path: Path,
    config_region: str | None,
    env_region: dict[str, str],
    expected: str,
) -> None:
    if config_region is None:
        Path(workplace.env["AWS_CONFIG_FILE"]).write_text("")
    result = workplace.run(
        f"set -e; scripts/publish-model.sh {small_model_path}", extra_env=env_region
    )
    assert result.returncode == 0, result.stderr
    values = printed(result.stdout)
    digest = sha256_of(small_model_path)
    assert values["REGION"] == expected
    assert values["BUCKET"] == f"sms-spam-model-123456789012-{expected}"
    assert values["MODEL_SHA256"] == digest
    assert values["MODEL_S3_URI"] == f"s3://{values['BUCKET']}/models/{digest}.npz"
    assert_private_bucket_in(workplace.s3, values["BUCKET"], expected)
    stored = workplace.s3.client.get_object(Bucket=values["BUCKET"], Key=f"models/{digest}.npz")
    assert stored["Body"].read() == small_model_path.read_bytes()
    assert stored["Metadata"]["sha256"] == digest

    again = workplace.run(f"scripts/publish-model.sh {small_model_path}", extra_env=env_region)
    assert again.returncode == 0, again.stderr  # the bucket exists now: reused, not an error
    assert f"bucket {values['BUCKET']} exists" in again.stderr


def test_publish_model_stops_before_any_bucket_when_the_credentials_fail(
    workplace: Workplace, small_model_path: Path
) -> None:
    result = workplace.run(
        f"scripts/publish-model.sh {small_model_path}",
        extra_env={"AWS_ENDPOINT_URL_STS": closed_port_endpoint()},
    )
    assert result.returncode != 0
    assert "aws sts get-caller-identity failed" in result.stderr
    assert result.stdout == ""
    assert workplace.s3.client.list_buckets()["Buckets"] == []  # no "sms-spam-model-" bucket


def test_publish_model_without_a_region_says_how_to_set_one(
    workplace: Workplace, small_model_path: Path
) -> None:
    Path(workplace.env["AWS_CONFIG_FILE"]).write_text("")
    result = workplace.run(f"scripts/publish-model.sh {small_model_path}")
    assert result.returncode != 0
    assert "no AWS region: run 'aws configure set region" in result.stderr
    assert workplace.s3.client.list_buckets()["Buckets"] == []


def test_publish_model_refuses_a_file_the_runtime_would_refuse(
    workplace: Workplace, tmp_path: Path
) -> None:
    broken = tmp_path / "model.npz"
    broken.write_bytes(b"PK\x03\x04 not a model")
    result = workplace.run(f"scripts/publish-model.sh {broken}")
    assert result.returncode != 0
    assert "is not a valid model" in result.stderr
    assert "MODEL_SHA256" not in result.stdout


# --- the README's deploy block, end to end ----------------------------------------------------


def run_readme_deploy(workplace: Workplace, model: Path) -> dict[str, str]:
    """The README's block with `set -e`, the model in its default place for the repository
    replaced by `--model` (the test must not write artifacts/)."""
    block = readme_deploy_commands()
    assert block.startswith("scripts/deploy.sh ")
    script = "set -euo pipefail\n" + block.replace(
        "scripts/deploy.sh ", f"scripts/deploy.sh --model {model} ", 1
    )
    script += 'echo "PREDICT_URL=$PREDICT_URL"; echo "HEALTH_URL=$HEALTH_URL"\n'
    result = workplace.run(script)
    assert result.returncode == 0, result.stdout + result.stderr
    return printed(result.stdout)


def other_model(path: Path) -> Path:
    path.write_bytes(tutorial_model_bytes(sublinear_tf=False, max_df=0.8))
    return path


def test_readme_deploy_block_deploys_and_rolls_out_a_new_model(
    workplace: Workplace, small_model_path: Path, interpreter: Path
) -> None:
    first = run_readme_deploy(workplace, small_model_path)
    assert first["PREDICT_URL"] == API_BASE + "/predict"
    assert first["HEALTH_URL"] == API_BASE + "/health"
    assert first["MODEL_SHA256"] == sha256_of(small_model_path)

    (call,) = workplace.sam_calls()
    overrides = overrides_of(call)
    assert call[call.index("--stack-name") + 1] == STACK
    assert call[call.index("--region") + 1] == "eu-west-1"
    assert overrides["ModelSha256"] == sha256_of(small_model_path)  # pinned by default
    assert overrides["PythonVersion"] == build_zip.DEFAULT_PYTHON
    assert overrides["Architecture"] == build_zip.DEFAULT_ARCH
    assert overrides["NumpyLayerArn"] == ""  # NumPy in the zip: said, not left to the past
    bucket, code_key = deployed_code(call)
    assert_private_bucket_in(workplace.s3, bucket, "eu-west-1")
    built = (
        Path(workplace.env["DIST_DIR"])
        / build_zip.Outputs.for_target(
            build_zip.Target(build_zip.DEFAULT_PYTHON, build_zip.DEFAULT_ARCH)
        ).full_no_model
    )
    uploaded = workplace.s3.client.get_object(Bucket=bucket, Key=code_key)
    assert uploaded["Body"].read() == built.read_bytes()
    assert sha256_of(built) in code_key

    # A new model: uploaded beside the old one, and the pin moves with the URI.
    newer = other_model(workplace.tmp / "newer.npz")
    second = run_readme_deploy(workplace, newer)
    assert second["MODEL_SHA256"] == sha256_of(newer) != first["MODEL_SHA256"]
    _, call = workplace.sam_calls()
    overrides = overrides_of(call)
    assert overrides["ModelSha256"] == sha256_of(newer)
    assert overrides["ModelS3Uri"].endswith(f"/models/{sha256_of(newer)}.npz")
    keys = {o["Key"] for o in workplace.s3.client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert {f"models/{sha256_of(small_model_path)}.npz", f"models/{sha256_of(newer)}.npz"} <= keys


def test_deploy_with_layer_publishes_numpy_and_deploys_the_code_only_zip(
    workplace: Workplace, small_model_path: Path, interpreter: Path
) -> None:
    result = workplace.run(
        f"set -e; scripts/deploy.sh --model {small_model_path} --layer -- "
        "CorsAllowOrigin='*' MemorySize=1024"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (call,) = workplace.sam_calls()
    overrides = overrides_of(call)
    assert (overrides["CorsAllowOrigin"], overrides["MemorySize"]) == ("*", "1024")
    layer = overrides["NumpyLayerArn"]
    assert re.fullmatch(
        r"arn:aws:lambda:eu-west-1:123456789012:layer:sms-spam-lambda-numpy-py313-x86_64:\d+", layer
    )
    names = build_zip.Outputs.for_target(build_zip.Target("3.13", "x86_64"))
    _, code_key = deployed_code(call)
    assert code_key.startswith(f"code/{names.code_no_model.removesuffix('.zip')}-")


def test_readme_deploy_block_stops_when_sam_fails(
    workplace: Workplace, small_model_path: Path, interpreter: Path
) -> None:
    """A failed `sam deploy` must not print URLs of an older stack as if all went well."""
    failing = workplace.tmp / "bin" / "sam"
    failing.write_text("#!/bin/sh\necho 'Error: Failed to create changeset' >&2\nexit 1\n")
    result = workplace.run(f"set -e; scripts/deploy.sh --model {small_model_path}")
    assert result.returncode != 0
    assert "Failed to create changeset" in result.stderr
    assert "PREDICT_URL" not in result.stdout


@pytest.mark.parametrize("script", ["deploy.sh", "publish-model.sh"])
def test_scripts_help_gives_each_option_and_its_default(script: str) -> None:
    result = subprocess.run(
        ["bash", str(SCRIPTS / script), "--help"], capture_output=True, text=True, check=True
    )
    text = result.stdout
    assert "set -euo pipefail" not in text  # the comment block only, not the code
    if script == "deploy.sh":
        for option, default in [
            ("--model PATH", "artifacts/model.npz"),
            ("--python X.Y", build_zip.DEFAULT_PYTHON),
            ("--arch ARCH", build_zip.DEFAULT_ARCH),
            ("--stack NAME", STACK),
        ]:
            line = next(line for line in text.splitlines() if option in line)
            assert f"(default: {default})" in line
        assert "--layer" in text
    else:
        assert "(default: artifacts/model.npz)" in text
        assert "MODEL_BUCKET (default sms-spam-model-ACCOUNT-REGION)" in text
