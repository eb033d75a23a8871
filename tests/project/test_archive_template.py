"""template.yaml's archive block: a Distributed Map whose grants name only its prefixes."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.project.test_template import expand, load_template, resources_of_type, run_cfn_lint

# Its tests take seconds each: outside the fast loop (-m "not slow").
pytestmark = pytest.mark.slow

ARCHIVE = ("ArchiveShardFunction", "ArchiveSummaryFunction", "ArchiveStateMachine")
INPUT_OBJECTS = "arn:${AWS::Partition}:s3:::${ArchiveInputBucket}/${ArchiveInputPrefix}*"
OUTPUT_OBJECTS = "arn:${AWS::Partition}:s3:::${ArchiveOutputBucket}/${ArchiveOutputPrefix}*"
INPUT_BUCKET = "arn:${AWS::Partition}:s3:::${ArchiveInputBucket}"
PARAMETERS = {
    "ArchiveInputBucket": "sms-archive-in",
    "ArchiveOutputBucket": "sms-archive-out",
    "ModelS3Uri": "s3://my-model-bucket/releases/model.npz",
    "ModelSha256": "ab" * 32,
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for policy in resource["Properties"]["Policies"]:
        if "Fn::If" in policy:
            _, policy, _ = policy["Fn::If"]
        found += policy["Statement"]
    return found


def test_every_grant_names_only_the_parameters_prefixes_or_the_model(
    template: dict[str, Any],
) -> None:
    resources = template["Resources"]
    seen: set[str] = set()
    for name in ARCHIVE:
        assert resources[name]["Condition"] == "ArchiveEnabled"
        for statement in statements(resources[name]):
            assert statement["Effect"] == "Allow"
            actions = statement["Action"]
            actions = [actions] if isinstance(actions, str) else actions
            targets = statement["Resource"]
            targets = targets if isinstance(targets, list) else [targets]
            for action in actions:
                service = action.split(":")[0]
                seen.add(action)
                for target in targets:
                    check_target(name, action, service, target, statement)
    # The grants the run needs are all there: read, list, write and run children.
    assert {"s3:GetObject", "s3:ListBucket", "s3:PutObject", "states:StartExecution"} <= seen


def check_target(
    name: str, action: str, service: str, target: Any, statement: dict[str, Any]
) -> None:
    if service == "lambda":
        assert name == "ArchiveStateMachine"
        assert target in (
            {"Fn::GetAtt": "ArchiveShardFunction.Arn"},
            {"Fn::GetAtt": "ArchiveSummaryFunction.Arn"},
        ) or target.get("Fn::GetAtt") in (
            ["ArchiveShardFunction", "Arn"],
            ["ArchiveSummaryFunction", "Arn"],
        )
        return
    if service == "states":
        pattern = target["Fn::Sub"]
        assert pattern.endswith(
            (
                "stateMachine:${AWS::StackName}-score-archive",
                "execution:${AWS::StackName}-score-archive/*",
            )
        )
        return
    assert service == "s3", action
    pattern = target["Fn::Sub"]
    if isinstance(pattern, list):  # the model object, exactly as the API function reads it
        assert statement["Sid"] == "ReadTheModelObject"
        assert pattern[0] == "arn:${AWS::Partition}:s3:::${BucketAndKey}"
        assert action in ("s3:GetObject", "s3:GetObjectVersion")
    elif action == "s3:ListBucket":
        assert pattern == INPUT_BUCKET
        assert statement["Condition"] == {
            "StringLike": {"s3:prefix": {"Fn::Sub": "${ArchiveInputPrefix}*"}}
        }
    elif action == "s3:GetObject" and name == "ArchiveShardFunction":
        assert pattern == INPUT_OBJECTS
    else:  # everything else is below the output prefix
        assert pattern == OUTPUT_OBJECTS, (name, action)


def test_the_map_is_distributed_over_the_input_listing_with_the_parameters(
    template: dict[str, Any],
) -> None:
    machine = template["Resources"]["ArchiveStateMachine"]["Properties"]
    states = machine["Definition"]["States"]
    scoring = states["ScoreShards"]
    assert scoring["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert scoring["ItemReader"]["Resource"] == "arn:aws:states:::s3:listObjectsV2"
    assert scoring["ItemReader"]["Parameters"] == {
        "Bucket.$": "$.input_bucket",
        "Prefix.$": "$.input_prefix",
    }
    # Substituted text stays a JSON string: the limits are parsed back into numbers first.
    limits = states["Limits"]["Parameters"]
    substitutions = machine["DefinitionSubstitutions"]
    for path, name, parameter in (
        (scoring["ItemBatcher"]["MaxItemsPerBatchPath"], "batch_size", "ArchiveBatchSize"),
        (scoring["MaxConcurrencyPath"], "max_concurrency", "ArchiveMaxConcurrency"),
        (
            scoring["ToleratedFailurePercentagePath"],
            "tolerated_failure_percentage",
            "ArchiveToleratedFailurePercentage",
        ),
    ):
        assert path == f"$.limits.{name}"
        placeholder = (
            limits[f"{name}.$"].removeprefix("States.StringToJson('${").removesuffix("}')")
        )
        assert substitutions[placeholder] == {"Ref": parameter}
    assert states["Limits"]["ResultPath"] == "$.limits"
    assert scoring["ResultWriter"]["Resource"] == "arn:aws:states:::s3:putObject"
    assert states["Summarise"]["Parameters"]["FunctionName"] == "${SummaryFunctionArn}"


def test_the_handlers_resolve_to_callables_in_runtime(template: dict[str, Any]) -> None:
    for name in ("ArchiveShardFunction", "ArchiveSummaryFunction"):
        handler = template["Resources"][name]["Properties"]["Handler"]
        module_name, _, attribute = handler.rpartition(".")
        assert module_name.startswith("runtime.archive.")
        assert callable(getattr(importlib.import_module(module_name), attribute))


def test_sam_expands_the_archive_block_to_a_lint_clean_stack(
    template: dict[str, Any], tmp_path: Path
) -> None:
    expanded = expand(template, PARAMETERS)
    (machine,) = resources_of_type(expanded, "AWS::StepFunctions::StateMachine")
    assert machine["Condition"] == "ArchiveEnabled"
    roles = resources_of_type(expanded, "AWS::IAM::Role")
    archive_roles = [role for role in roles if role.get("Condition") == "ArchiveEnabled"]
    assert len(archive_roles) == 3  # the two archive functions' and the machine's
    path = tmp_path / "expanded.json"
    path.write_text(json.dumps(expanded))
    result = run_cfn_lint(path)
    assert result.returncode == 0, result.stdout + result.stderr
