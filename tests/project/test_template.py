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
from tests.paths import ROOT

# Its tests take seconds each: outside the fast loop (-m "not slow").
pytestmark = pytest.mark.slow

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


def serverless_functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def test_every_function_is_built_by_the_makefile_from_the_repository(
    template: dict[str, Any],
) -> None:
    """`sam build` runs build-<name> for each (deploy.sh replaces `.` by its uploaded zip)."""
    functions = serverless_functions(template)
    assert FUNCTION in functions
    makefile = (ROOT / "Makefile").read_text()
    (listed,) = re.findall(r"^FUNCTIONS := (.*)$", makefile, re.M)
    assert sorted(listed.split()) == sorted(functions)
    for name, resource in functions.items():
        assert resource["Properties"]["CodeUri"] == ".", name
        assert resource["Metadata"]["BuildMethod"] == "makefile", name


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
    # The model-read policy and the learning one; SAM adds basic logging itself.
    assert [p["Fn::If"][0] for p in policies] == ["ModelFromS3", "LearningOn"]
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
    assert {("POST", "/predict"), ("GET", "/health"), ("POST", "/feedback")} <= routes
    assert {("OPTIONS", "/predict"), ("OPTIONS", "/health"), ("OPTIONS", "/feedback")} <= routes
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


CODE_BUCKET, CODE_KEY = "sms-spam-model-123456789012-eu-west-1", "code/x.zip"


def with_uploaded_code(template: dict[str, Any]) -> dict[str, Any]:
    """The template as scripts/deploy.sh deploys it: every CodeUri is the uploaded zip."""
    deployed = copy.deepcopy(template)
    for resource in serverless_functions(deployed).values():
        assert resource["Properties"]["CodeUri"] == "."
        resource["Properties"]["CodeUri"] = f"s3://{CODE_BUCKET}/{CODE_KEY}"
    return deployed


def expand(template: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    """The CloudFormation stack SAM turns the template into (no AWS call is made)."""
    from samtranslator.translator.transform import transform

    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_DEFAULT_REGION", "eu-west-1")  # ARNs need a region
        return transform(with_uploaded_code(template), parameters, _NoManagedPolicies())


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
    function = expanded["Resources"][FUNCTION]  # the archive and the learner add functions
    condition, (attached,), otherwise = function["Properties"]["Layers"]["Fn::If"]
    assert expanded["Conditions"][condition] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "NumpyLayerArn"}, ""]}]
    }
    assert attached == {"Ref": "NumpyLayerArn"}
    assert otherwise == {"Ref": "AWS::NoValue"}
    assert function["Properties"]["Code"] == {"S3Bucket": CODE_BUCKET, "S3Key": CODE_KEY}


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
    function = resources[FUNCTION]
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


# Learning (docs/learning.md): the bucket's three places, and who may do what in each.
LEARNING = "LearningBucket"
LEARNER = "LearnerFunction"
REPORTS, MODELS, POINTER = "/reports/*", "/models/*", "/serving/pointer.json"
RETIRED = "/retired/*"


def _statements(policies: list[Any]) -> list[dict[str, Any]]:
    """Every statement of a function's policies, conditional ones included."""
    found = []
    for policy in policies:
        if "Fn::If" in policy:
            policy = policy["Fn::If"][1]
        found.extend(policy["Statement"])
    return found


def _learning_resource(resource: Any) -> str | None:
    """ "/reports/*" for arn:...:s3:::${LearningBucket}/reports/*, "" for the bucket itself."""
    pattern = resource.get("Fn::Sub") if isinstance(resource, dict) else None
    prefix = "arn:${AWS::Partition}:s3:::${LearningBucket}"
    if isinstance(pattern, str) and pattern.startswith(prefix):
        return pattern[len(prefix) :]
    return None


def _grants(statements: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(action, place in the learning bucket) pairs; other resources are returned as is."""
    grants = set()
    for statement in statements:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        resources = statement["Resource"]
        for action in [actions] if isinstance(actions, str) else actions:
            for resource in resources if isinstance(resources, list) else [resources]:
                place = _learning_resource(resource)
                grants.add((action, place if place is not None else str(resource)))
    return grants


def test_iam_statements_name_only_the_learning_prefixes(template: dict[str, Any]) -> None:
    """Least privilege: each function gets the actions it needs on the places it uses."""
    serving = _statements(function_properties(template)["Policies"])
    learning = [s for s in serving if s.get("Sid") != "ReadTheModelObject"]
    assert _grants(learning) == {
        ("s3:PutObject", REPORTS),  # reports in: write only, no read, no delete
        ("s3:GetObject", POINTER),
        ("s3:GetObject", MODELS),
    }
    learner = template["Resources"][LEARNER]["Properties"]["Policies"]
    statements = _statements(learner)
    assert _grants(statements) == {
        ("s3:ListBucket", ""),
        ("s3:GetObject", REPORTS),
        ("s3:DeleteObject", REPORTS),  # a retire: CopyObject to retired/, then delete
        ("s3:PutObject", RETIRED),
        ("s3:GetObject", MODELS),
        ("s3:PutObject", MODELS),
        ("s3:GetObject", POINTER),
        ("s3:PutObject", POINTER),
    }
    (listing,) = [s for s in statements if s["Action"] == "s3:ListBucket"]
    assert listing["Condition"] == {
        "StringLike": {"s3:prefix": ["reports/*", "models/*", "serving/*"]}
    }
    # The check can fail: a wildcard action or a whole-bucket object grant is caught.
    assert ("s3:*", "/*") not in _grants(statements)
    broader = _grants(
        [
            {
                **statements[1],
                "Resource": {"Fn::Sub": "arn:${AWS::Partition}:s3:::${LearningBucket}/*"},
            }
        ]
    )
    assert broader == {("s3:GetObject", "/*"), ("s3:DeleteObject", "/*")}


def test_the_learner_is_the_same_package_run_on_a_schedule(template: dict[str, Any]) -> None:
    learner = template["Resources"][LEARNER]
    assert learner["Condition"] == "LearningOn"
    properties = learner["Properties"]
    serving = function_properties(template)
    assert properties["Handler"] == "runtime.learner_handler.handler"
    for same in ("CodeUri", "Runtime", "Architectures", "Layers"):
        assert properties[same] == serving[same], same
    (event,) = properties["Events"].values()
    assert event["Type"] == "Schedule"
    assert event["Properties"]["Schedule"] == {"Ref": "LearnerSchedule"}
    assert properties["ReservedConcurrentExecutions"] == 1
    variables = properties["Environment"]["Variables"]
    places = {
        "REPORTS_S3_URI": "s3://${LearningBucket}/reports/",
        "MODELS_S3_URI": "s3://${LearningBucket}/models/",
        "MODEL_POINTER_S3_URI": "s3://${LearningBucket}/serving/pointer.json",
    }
    assert {name: variables[name]["Fn::Sub"] for name in places} == places
    serving_variables = serving["Environment"]["Variables"]
    assert (
        serving_variables["MODEL_POINTER_S3_URI"]["Fn::If"][1]["Fn::Sub"]
        == places["MODEL_POINTER_S3_URI"]
    )
    assert serving_variables["REPORTS_S3_URI"]["Fn::If"][1]["Fn::Sub"] == places["REPORTS_S3_URI"]


def test_the_learner_handler_reads_the_variables_the_template_sets(
    template: dict[str, Any],
) -> None:
    module = pytest.importorskip("runtime.learner_handler")
    variables = template["Resources"][LEARNER]["Properties"]["Environment"]["Variables"]
    assert set(module.REQUIRED) <= set(variables)
    assert callable(module.handler)


def test_feedback_requires_an_api_key_of_a_throttled_usage_plan(template: dict[str, Any]) -> None:
    events = function_properties(template)["Events"]
    auth = {
        (e["Properties"]["Method"].upper(), e["Properties"]["Path"]): e["Properties"].get("Auth")
        for e in events.values()
    }
    assert auth[("POST", "/feedback")] == {"ApiKeyRequired": True}
    assert auth[("POST", "/predict")] is None  # /predict stays as it was
    plan = template["Resources"]["FeedbackUsagePlan"]["Properties"]
    assert plan["ApiStages"] == [{"ApiId": {"Ref": API}, "Stage": {"Ref": f"{API}.Stage"}}]
    assert set(plan["Throttle"]) == {"RateLimit", "BurstLimit"}
    assert plan["Quota"]["Period"] == "DAY"
    key = template["Resources"]["FeedbackUsagePlanKey"]["Properties"]
    assert key["UsagePlanId"] == {"Ref": "FeedbackUsagePlan"}
    assert key["KeyId"] == {"Ref": "FeedbackApiKey"}
    expanded = expand(template, {"Learning": "on"})
    (api,) = resources_of_type(expanded, "AWS::ApiGateway::RestApi")
    paths = api["Properties"]["Body"]["paths"]
    assert paths["/feedback"]["post"]["security"] == [{"api_key": []}]
    assert "security" not in paths["/predict"]["post"]
    assert "security" not in paths["/feedback"]["options"]  # preflights carry no key


def test_the_learning_bucket_is_private_encrypted_and_kept(template: dict[str, Any]) -> None:
    bucket = template["Resources"][LEARNING]
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    block = bucket["Properties"]["PublicAccessBlockConfiguration"]
    assert all(block.values())
    assert len(block) == 4
    assert "BucketEncryption" in bucket["Properties"]
    (deny,) = template["Resources"]["LearningBucketPolicy"]["Properties"]["PolicyDocument"][
        "Statement"
    ]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_learning_refuses_a_fixed_model_beside_the_pointer(template: dict[str, Any]) -> None:
    rule = template["Rules"]["LearningFollowsThePointer"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "Learning"}, "on"]}
    (assertion,) = rule["Assertions"]
    assert {"Fn::Equals": [{"Ref": "ModelS3Uri"}, ""]} in assertion["Assert"]["Fn::And"]
    assert {"Fn::Equals": [{"Ref": "ModelSha256"}, ""]} in assertion["Assert"]["Fn::And"]


def test_with_learning_on_sam_expands_to_a_lint_clean_stack(
    template: dict[str, Any], tmp_path: Path
) -> None:
    import json

    expanded = expand(template, {"Learning": "on"})
    functions = resources_of_type(expanded, "AWS::Lambda::Function")
    # The archive block's functions sit beside them under their own condition.
    assert sorted(
        f["Properties"]["Handler"] for f in functions if f.get("Condition") != "ArchiveEnabled"
    ) == ["runtime.handler.lambda_handler", "runtime.learner_handler.handler"]
    assert {f.get("Condition") for f in functions} == {None, "LearningOn", "ArchiveEnabled"}
    (rule,) = resources_of_type(expanded, "AWS::Events::Rule")
    assert rule["Properties"]["ScheduleExpression"] == {"Ref": "LearnerSchedule"}
    path = tmp_path / "expanded.json"
    path.write_text(json.dumps(expanded))
    result = run_cfn_lint(path)
    assert result.returncode == 0, result.stdout + result.stderr
