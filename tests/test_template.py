"""template.yaml: lint-clean, and consistent with the code and the zip it deploys."""

from __future__ import annotations

import ast
import copy
import importlib
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import build_zip

# Its tests take seconds each: outside the fast loop (-m "not slow").
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
FUNCTION = "SpamFunction"
API = "SpamApi"
# Read by a library rather than by our code.
LIBRARY_ENV_VARS = frozenset({"OPENBLAS_NUM_THREADS"})
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]+$")


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation short-form tags (!Ref, !Sub...) as plain data."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as plain data; intrinsics become {"Ref": ...} / {"Fn::X": ...}."""
    return yaml.load(path.read_text(), Loader=_CfnLoader)


def function_properties(template: dict[str, Any] | None = None) -> dict[str, Any]:
    return (template or load_template())["Resources"][FUNCTION]["Properties"]


def handler_name() -> str:
    """The handler path the template deploys, e.g. runtime.handler.lambda_handler."""
    return function_properties()["Handler"]


def env_vars_read_by(package: Path) -> set[str]:
    """Environment variable names the code reads: get("X"), getenv("X"), environ["X"]."""
    names: set[str] = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            candidate = None
            if isinstance(node, ast.Call) and node.args:
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called in {"get", "getenv", "setdefault", "pop"}:
                    candidate = node.args[0]
            elif isinstance(node, ast.Subscript):
                candidate = node.slice
            if (
                isinstance(candidate, ast.Constant)
                and isinstance(candidate.value, str)
                and ENV_NAME.match(candidate.value)
            ):
                names.add(candidate.value)
    return names


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def run_cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    """cfn-lint's console script, run by this interpreter (no PATH lookup)."""
    code = "import sys; from cfnlint.runner import main; sys.argv[0] = 'cfn-lint'; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=False
    )


def test_cfn_lint_passes() -> None:
    result = run_cfn_lint(TEMPLATE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_would_catch_a_broken_template(tmp_path: Path) -> None:
    broken = tmp_path / "template.yaml"
    text = TEMPLATE.read_text()
    assert "LogGroup: !Ref FunctionLogs\n" in text
    broken.write_text(text.replace("LogGroup: !Ref FunctionLogs\n", "LogGroup: !Ref NoSuchLogs\n"))
    result = run_cfn_lint(broken)
    assert result.returncode != 0
    assert "NoSuchLogs" in result.stdout


def test_handler_resolves_to_a_callable_in_runtime() -> None:
    module_name, _, attribute = handler_name().rpartition(".")
    assert module_name.split(".")[0] == "runtime"
    module = importlib.import_module(module_name)
    assert Path(module.__file__).resolve().is_relative_to(ROOT / "runtime")
    assert callable(getattr(module, attribute))


def test_python_version_and_architecture_are_the_targets_build_zip_builds_for(
    template: dict[str, Any],
) -> None:
    properties = function_properties(template)
    python = template["Parameters"]["PythonVersion"]
    assert python["Default"] == build_zip.DEFAULT_PYTHON
    assert sorted(python["AllowedValues"]) == sorted(build_zip.SUPPORTED_PYTHONS)
    # The runtime the template asks Lambda for is the one the build compiles bytecode for.
    (pattern,) = properties["Runtime"].values()
    for version in build_zip.SUPPORTED_PYTHONS:
        target = build_zip.Target(version, build_zip.DEFAULT_ARCH)
        assert pattern.replace("${PythonVersion}", version) == target.lambda_runtime
    assert properties["Architectures"] == [{"Ref": "Architecture"}]
    architecture = template["Parameters"]["Architecture"]
    assert architecture["Default"] == build_zip.DEFAULT_ARCH
    assert sorted(architecture["AllowedValues"]) == sorted(build_zip.ARCHES)
    # The zip is the one deploy.sh uploads: the key is a parameter, as the target is.
    assert properties["CodeUri"] == {"Bucket": {"Ref": "CodeBucket"}, "Key": {"Ref": "CodeKey"}}


def test_environment_variables_are_ones_the_code_reads(template: dict[str, Any]) -> None:
    variables = function_properties(template)["Environment"]["Variables"]
    read = env_vars_read_by(ROOT / "runtime")
    assert {"MODEL_S3_URI", "MODEL_SHA256", "CORS_ALLOW_ORIGIN"} <= read  # the scan works
    assert set(variables) - LIBRARY_ENV_VARS <= read, set(variables) - LIBRARY_ENV_VARS - read
    assert variables["OPENBLAS_NUM_THREADS"] == "1"
    assert variables["MODEL_S3_URI"] == {"Ref": "ModelS3Uri"}
    assert variables["MODEL_SHA256"] == {"Ref": "ModelSha256"}
    assert variables["CORS_ALLOW_ORIGIN"] == {"Ref": "CorsAllowOrigin"}


def test_model_access_is_one_object_read_only(template: dict[str, Any]) -> None:
    policies = function_properties(template)["Policies"]
    assert len(policies) == 1, "only the model-read policy; SAM adds basic logging itself"
    condition, document, otherwise = policies[0]["Fn::If"]
    assert condition == "ModelFromS3"
    assert otherwise == {"Ref": "AWS::NoValue"}
    (statement,) = document["Statement"]
    assert statement["Effect"] == "Allow"
    assert set(statement["Action"]) <= {"s3:GetObject", "s3:GetObjectVersion"}
    pattern, variables = statement["Resource"]["Fn::Sub"]
    assert pattern == "arn:${AWS::Partition}:s3:::${BucketAndKey}"  # an object, no wildcard
    assert "ModelS3Uri" in str(variables["BucketAndKey"])


def test_api_routes_throttling_and_logging(template: dict[str, Any]) -> None:
    properties = function_properties(template)
    routes = {
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"])
        for event in properties["Events"].values()
        if event["Type"] == "Api" and event["Properties"]["RestApiId"] == {"Ref": API}
    }
    assert {("POST", "/predict"), ("GET", "/health")} <= routes
    assert {("OPTIONS", "/predict"), ("OPTIONS", "/health")} <= routes  # CORS preflight
    api = template["Resources"][API]
    assert api["Type"] == "AWS::Serverless::Api"
    (settings,) = api["Properties"]["MethodSettings"]
    assert {"ThrottlingRateLimit", "ThrottlingBurstLimit"} <= settings.keys()
    assert properties["LoggingConfig"]["LogFormat"] == "JSON"
    log_group = template["Resources"][properties["LoggingConfig"]["LogGroup"]["Ref"]]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert "RetentionInDays" in log_group["Properties"]


class _NoManagedPolicies:
    """The template names no AWS managed policies, so the translator needs no IAM lookups."""

    def load(self) -> dict[str, str]:
        return {}


CODE = {"CodeBucket": "sms-spam-model-123456789012-eu-west-1", "CodeKey": "code/x.zip"}


def expand(template: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    """The CloudFormation stack SAM turns the template into (no AWS call is made)."""
    from samtranslator.translator.transform import transform

    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_DEFAULT_REGION", "eu-west-1")  # ARNs need a region
        return transform(copy.deepcopy(template), {**CODE, **parameters}, _NoManagedPolicies())


def resources_of_type(expanded: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in expanded["Resources"].values() if r["Type"] == kind]


def test_the_api_has_exactly_one_stage_and_it_is_throttled(template: dict[str, Any]) -> None:
    expanded = expand(template, {})
    (stage,) = resources_of_type(expanded, "AWS::ApiGateway::Stage")
    assert stage["Properties"]["StageName"] == "Prod"
    (settings,) = stage["Properties"]["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == {"Ref": "ThrottlingRateLimit"}
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ThrottlingBurstLimit"}
    assert (settings["ResourcePath"], settings["HttpMethod"]) == ("/*", "*")
    # A Deployment with a StageName makes CloudFormation create that stage too, unthrottled.
    for deployment in resources_of_type(expanded, "AWS::ApiGateway::Deployment"):
        assert "StageName" not in deployment["Properties"]
    assert template["Outputs"]["PredictUrl"]["Value"]["Fn::Sub"].endswith("/Prod/predict")


def test_without_open_api_version_sam_adds_an_unthrottled_stage(template: dict[str, Any]) -> None:
    """What the stage test guards against: SAM's own "Stage" stage."""
    without = copy.deepcopy(template)
    del without["Globals"]["Api"]["OpenApiVersion"]
    deployments = resources_of_type(expand(without, {}), "AWS::ApiGateway::Deployment")
    assert [d["Properties"].get("StageName") for d in deployments] == ["Stage"]


def test_numpy_layer_is_attached_only_when_given(template: dict[str, Any]) -> None:
    layer = "arn:aws:lambda:eu-west-1:123456789012:layer:numpy:3"
    expanded = expand(template, {"NumpyLayerArn": layer})
    (function,) = resources_of_type(expanded, "AWS::Lambda::Function")
    condition, (attached,), otherwise = function["Properties"]["Layers"]["Fn::If"]
    assert expanded["Conditions"][condition] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "NumpyLayerArn"}, ""]}]
    }
    assert attached == {"Ref": "NumpyLayerArn"}
    assert otherwise == {"Ref": "AWS::NoValue"}
    assert function["Properties"]["Code"] == {
        "S3Bucket": {"Ref": "CodeBucket"},
        "S3Key": {"Ref": "CodeKey"},
    }


@pytest.mark.parametrize(
    "parameters",
    [
        {},  # the model bundled in the zip: no S3 permission at all
        {
            "ModelS3Uri": "s3://my-model-bucket/releases/model.npz",
            "ModelSha256": "ab" * 32,
            "CorsAllowOrigin": "https://example.com",
        },
    ],
    ids=["bundled", "s3"],
)
def test_sam_expands_to_a_lint_clean_cloudformation_stack(
    template: dict[str, Any], parameters: dict[str, str], tmp_path: Path
) -> None:
    """cfn-lint no longer expands SAM resources itself; check what SAM really deploys."""
    import json

    expanded = expand(template, parameters)
    resources = expanded["Resources"]
    function = next(r for r in resources.values() if r["Type"] == "AWS::Lambda::Function")
    assert function["Properties"]["Handler"] == handler_name()
    assert function["Properties"]["LoggingConfig"]["LogFormat"] == "JSON"
    assert "AWS::ApiGateway::RestApi" in {r["Type"] for r in resources.values()}

    path = tmp_path / "expanded.json"
    path.write_text(json.dumps(expanded))
    result = run_cfn_lint(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_example_alarm_watches_the_metrics_the_function_logs() -> None:
    """The alarm's namespace, metric names and dimension are the ones runtime/metrics.py writes."""
    from runtime import metrics

    template = yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)
    alarm = template["Resources"]["SpamShareAlarm"]["Properties"]
    stats = [m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m]
    assert {s["Namespace"] for s in stats} == {metrics.NAMESPACE}
    assert {s["MetricName"] for s in stats} == {
        "Messages",
        metrics.metric_name("Predicted", "spam"),
    }
    assert {d["Name"] for s in stats for d in s["Dimensions"]} == {metrics.DIMENSION}
