# SPDX-License-Identifier: Apache-2.0
"""cloud/template.yaml: cfn-lint clean, least privilege, nothing account- or region-bound, and in step with its
sources of truth:

- the functions' environment: cloud/README.md ("The functions' environment");
- the Glue table's columns and types: `CREATE TABLE meter_data` in Sources/MeterStore/Schema.swift (the exporter's
  CSV header is MinuteRow.columns, which a Swift test keeps equal to that table);
- the lake's key layout: LakeLayout.hourKey in Sources/MeterServices/Export/LakeLayout.swift.

`SAM_CLI=/path/to/sam` adds `sam validate --lint` (run offline with dummy credentials); without it that test is
not collected.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode

from lake import meter_data_columns

CLOUD = Path(__file__).resolve().parents[1]
REPO = CLOUD.parent
TEMPLATE_PATH = CLOUD / "template.yaml"
README = CLOUD / "README.md"
LAKE_LAYOUT_SWIFT = REPO / "Sources" / "MeterServices" / "Export" / "LakeLayout.swift"

#: Statements allowed on Resource "*": the actions that have no resource-level permissions.
STAR_RESOURCE_ACTIONS = {"ecr:GetAuthorizationToken", "cloudwatch:PutMetricData"}
REGION = re.compile(r"\b(us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-\d\b")
ACCOUNT = re.compile(r"(?<!\d)\d{12}(?!\d)")


# MARK: - Helpers


def load_template() -> dict[str, Any]:
    template, matches = decode(str(TEMPLATE_PATH))
    assert template is not None and not matches, f"{TEMPLATE_PATH} does not parse: {matches}"
    return template


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def resource(template: dict[str, Any], name: str) -> dict[str, Any]:
    return template["Resources"][name]["Properties"]


def walk(node: Any) -> Iterator[Any]:
    """Every dict, list and scalar in the template, depth first."""
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Every IAM statement anywhere (roles, inline and managed policies, the bucket policy, trust policies)."""
    return [node for node in walk(template["Resources"]) if isinstance(node, dict) and "Effect" in node and "Action" in node]


def policy_actions(document: dict[str, Any]) -> set[str]:
    return {action for statement in document["Statement"] for action in as_list(statement["Action"])}


def sub(value: Any, names: dict[str, str]) -> str:
    """Resolves a string, Ref or Fn::Sub against `names` (parameters, resources, `Res.Attr`); `${!x}` stays `${x}`."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return names[value["Ref"]]
    text = value["Fn::Sub"]
    local: dict[str, str] = {}
    if isinstance(text, list):
        text, variables = text
        local = {key: sub(v, names) for key, v in variables.items()}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        return local.get(name) or names[name]

    return re.sub(r"\$\{([^}]+)\}", replace, text)


def defaults(template: dict[str, Any]) -> dict[str, str]:
    """The parameters' defaults, the bucket as `lake-bucket`, pseudo parameters as placeholders."""
    names = {key: str(p.get("Default", "")) for key, p in template["Parameters"].items()}
    names.update({"DataBucket": "lake-bucket", "DataBucket.Arn": "arn:${AWS::Partition}:s3:::lake-bucket"})
    return names


def readme_environment() -> tuple[set[str], set[str]]:
    """The variable names of cloud/README.md's RetrainTrigger table and PublishModel line."""
    section = README.read_text().split("## The functions' environment", 1)[1]
    variable = re.compile(r"`([A-Z][A-Z0-9_]*)`")
    trigger_table, publish_part = section.split("PublishModel (", 1)
    trigger = {name for line in trigger_table.splitlines() if line.startswith("| `")
               for name in variable.findall(line.split("|")[1])}
    publish = set(variable.findall(publish_part.splitlines()[0]))
    return trigger, publish


def exporter_key(prefix: str, device: str, date: str, hour: str) -> str:
    """LakeLayout.hourKey's key, read from its Swift source."""
    found = re.search(r'return "(\\\(prefix\)minutes/[^"]*)"', LAKE_LAYOUT_SWIFT.read_text())
    assert found, f"no hourKey format in {LAKE_LAYOUT_SWIFT}"
    values = {"prefix": prefix, "device": device, "date": date, "hour": hour}
    return re.sub(r"\\\((\w+)\)", lambda m: values[m.group(1)], found.group(1))


def references(node: Any) -> set[str]:
    """Logical ids a value names through Ref, Fn::GetAtt or Fn::Sub (`${X}`, `${X.Attr}`, not `${!x}`)."""
    found: set[str] = set()
    for item in walk(node):
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("Ref"), str):
            found.add(item["Ref"])
        if "Fn::GetAtt" in item:
            target = item["Fn::GetAtt"]
            found.add(target[0] if isinstance(target, list) else target.split(".")[0])
        if "Fn::Sub" in item:
            text, local = (item["Fn::Sub"], {}) if isinstance(item["Fn::Sub"], str) else item["Fn::Sub"]
            found |= {m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text) if m.split(".")[0] not in local}
    return found


# MARK: - Lint


def test_cfn_lint_is_clean() -> None:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    assert cfn_lint.is_file(), f"no cfn-lint beside {sys.executable}: pip install -r cloud/requirements-dev.txt"
    result = subprocess.run([str(cfn_lint), str(TEMPLATE_PATH)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and not result.stdout.strip(), f"cfn-lint:\n{result.stdout}{result.stderr}"


def test_no_dependency_cycle_after_sam_s3_events(template: dict[str, Any]) -> None:
    """cfn-lint skips cycles through SAM resources, so this models SAM's S3 event: the bucket DependsOn the
    function's invoke permission, i.e. on the function (checked against samtranslator 1.115's output)."""
    resources = template["Resources"]
    edges = {name: references(body.get("Properties", {})) | set(as_list(body.get("DependsOn", []))) for name, body in resources.items()}
    function_globals = template.get("Globals", {}).get("Function", {})
    for name, body in resources.items():
        if body["Type"] == "AWS::Serverless::Function":
            # Events become other resources (permission, rule, the bucket's notification), not the function's.
            edges[name] = references({k: v for k, v in body["Properties"].items() if k != "Events"})
            edges[name] |= references(function_globals)
            for event in body["Properties"].get("Events", {}).values():
                if event["Type"] == "S3":
                    edges[event["Properties"]["Bucket"]["Ref"]].add(name)
    edges = {name: {t for t in targets if t in resources} for name, targets in edges.items()}

    def cycle_from(start: str, path: list[str]) -> list[str] | None:
        for target in sorted(edges[start]):
            if target in path:
                return path[path.index(target):] + [target]
            if (found := cycle_from(target, path + [target])) is not None:
                return found
        return None

    for name in resources:
        assert (cycle := cycle_from(name, [name])) is None, f"circular dependency: {' → '.join(cycle)}"


# MARK: - Nothing account-, region- or partition-bound


def test_no_literal_account_region_or_aws_arn(template: dict[str, Any]) -> None:
    text = TEMPLATE_PATH.read_text()
    dlc_default = template["Parameters"]["DeepLearningContainersAccount"]["Default"]
    assert ACCOUNT.findall(text) == [dlc_default], "the only 12-digit literal is DeepLearningContainersAccount's default"
    assert not REGION.findall(text), "no literal region: use ${AWS::Region}"
    assert "arn:aws:" not in text, "ARNs start arn:${AWS::Partition}:"
    assert "amazonaws.com/" not in text, "image hosts end in ${AWS::URLSuffix}"


def test_training_image_defaults_to_the_regional_dlc_and_can_be_overridden(template: dict[str, Any]) -> None:
    assert template["Conditions"]["UseDefaultTrainingImage"] == {"Fn::Equals": [{"Ref": "TrainingImage"}, ""]}
    condition, default, explicit = resource(template, "RetrainTrigger")["Environment"]["Variables"]["TRAINING_IMAGE"]["Fn::If"]
    assert (condition, explicit) == ("UseDefaultTrainingImage", {"Ref": "TrainingImage"})
    names = defaults(template) | {"AWS::Region": "REGION", "AWS::URLSuffix": "SUFFIX"}
    assert sub(default, names) == "763104351884.dkr.ecr.REGION.SUFFIX/tensorflow-training:2.16-cpu-py310"


# MARK: - Least privilege


def test_no_delete_and_no_wildcard_actions(template: dict[str, Any]) -> None:
    for statement in statements(template):
        for action in as_list(statement["Action"]):
            assert action != "*", statement
            assert not action.lower().startswith("s3:delete"), statement
            if statement["Effect"] == "Allow":
                assert "*" not in action, f"a wildcard action is allowed: {statement}"


def test_resource_star_only_where_there_are_no_resources(template: dict[str, Any]) -> None:
    for statement in statements(template):
        if statement["Effect"] != "Allow" or "*" not in as_list(statement.get("Resource", [])):
            continue
        actions = set(as_list(statement["Action"]))
        assert actions <= STAR_RESOURCE_ACTIONS, f"Resource '*' for {actions - STAR_RESOURCE_ACTIONS}"
        if "cloudwatch:PutMetricData" in actions:
            assert statement["Condition"] == {"StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/TrainingJobs"}}


def test_every_list_bucket_is_limited_by_prefix(template: dict[str, Any]) -> None:
    expected = {"RetrainTriggerPolicy": {"training-code/*"}, "TrainingDataPolicy": {"data/*", "training-code/*"},
                "PublishModelRole": {"training-output/*", "models/*"}, "DevicePolicy": {"models/*"}}
    found: dict[str, set[str]] = {}
    for name, body in template["Resources"].items():
        for statement in statements({"Resources": {name: body}}):
            if statement["Effect"] == "Allow" and "s3:ListBucket" in as_list(statement["Action"]):
                assert set(statement["Condition"]) == {"StringLike"} and set(statement["Condition"]["StringLike"]) == {"s3:prefix"}
                prefixes = as_list(statement["Condition"]["StringLike"]["s3:prefix"])
                found.setdefault(name, set()).update(sub(p, defaults(template)) for p in prefixes)
    assert found == expected


def test_each_role_has_exactly_its_actions(template: dict[str, Any]) -> None:
    expected = {
        "RetrainTriggerPolicy": {"sagemaker:CreateTrainingJob", "sagemaker:AddTags",
                                 "iam:PassRole", "scheduler:CreateSchedule", "scheduler:UpdateSchedule", "s3:GetObject", "s3:PutObject", "s3:ListBucket"},
        "SchedulerInvokePolicy": {"lambda:InvokeFunction"},
        "TrainingDataPolicy": {"s3:GetObject", "s3:ListBucket", "s3:PutObject"},
        "DevicePolicy": {"s3:PutObject", "s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"},
    }
    for name, actions in expected.items():
        assert policy_actions(resource(template, name)["PolicyDocument"]) == actions, name
    inline = {
        "TrainingRole": {"cloudwatch:PutMetricData", "logs:CreateLogGroup", "logs:CreateLogStream",
                         "logs:DescribeLogStreams", "logs:PutLogEvents", "ecr:GetAuthorizationToken",
                         "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"},
        "PublishModelRole": {"sagemaker:DescribeTrainingJob", "sagemaker:ListTags", "s3:GetObject", "s3:PutObject",
                             "s3:ListBucket"},
    }
    for name, actions in inline.items():
        found = {a for policy in resource(template, name)["Policies"] for a in policy_actions(policy["PolicyDocument"])}
        assert found == actions, name
    for name in ("RetrainTriggerRole", "SchedulerRole"):
        assert "Policies" not in resource(template, name), f"{name}: its statements are in a separate policy"


def test_pass_role_is_limited_to_its_service(template: dict[str, Any]) -> None:
    passes = [s for s in statements(template) if "iam:PassRole" in as_list(s["Action"])]
    found = {(s["Resource"]["Fn::GetAtt"][0], s["Condition"]["StringEquals"]["iam:PassedToService"]) for s in passes}
    assert found == {("TrainingRole", "sagemaker.amazonaws.com"), ("SchedulerRole", "scheduler.amazonaws.com")}


def test_s3_statements_stay_in_their_prefixes(template: dict[str, Any]) -> None:
    names = defaults(template)
    arn = "arn:${AWS::Partition}:s3:::lake-bucket"
    expected = {
        "RetrainTriggerPolicy": {(arn + "/training-code/*", "s3:GetObject"), (arn + "/training-code/*", "s3:PutObject"),
                                 (arn, "s3:ListBucket")},
        "TrainingDataPolicy": {(arn + "/data/*", "s3:GetObject"), (arn + "/training-code/*", "s3:GetObject"),
                               (arn, "s3:ListBucket"), (arn + "/training-output/*", "s3:PutObject")},
        "DevicePolicy": {(arn + "/data/*", "s3:PutObject"), (arn + "/models/*", "s3:GetObject"), (arn, "s3:ListBucket"),
                         (arn, "s3:GetBucketLocation")},
        # GetObject on models/: HeadObject of the destination (an event delivered twice is not copied again).
        "PublishModelRole": {(arn + "/training-output/*", "s3:GetObject"), (arn + "/models/*", "s3:GetObject"),
                             (arn + "/models/*", "s3:PutObject"), (arn, "s3:ListBucket")},
    }
    for name, pairs in expected.items():
        properties = resource(template, name)
        documents = [properties["PolicyDocument"]] if "PolicyDocument" in properties else [p["PolicyDocument"] for p in properties["Policies"]]
        found = {(sub(r, names) if "Fn::GetAtt" not in r else names["DataBucket.Arn"], a)
                 for document in documents for s in document["Statement"]
                 for a in as_list(s["Action"]) if a.startswith("s3:") for r in as_list(s["Resource"])}
        assert found == pairs, name


# MARK: - The bucket


def test_bucket_is_versioned_private_encrypted_and_tls_only(template: dict[str, Any]) -> None:
    bucket = resource(template, "DataBucket")
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert all(bucket["PublicAccessBlockConfiguration"].values()) and len(bucket["PublicAccessBlockConfiguration"]) == 4
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    (deny,) = resource(template, "DataBucketPolicy")["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_trigger_knows_the_bucket_name_the_bucket_gets(template: dict[str, Any]) -> None:
    """Written twice to avoid a cycle (see the template's header): both must be the same expression."""
    name = resource(template, "DataBucket")["BucketName"]
    assert resource(template, "RetrainTrigger")["Environment"]["Variables"]["BUCKET"] == name
    condition, generated, given = name["Fn::If"]
    assert (condition, given) == ("GenerateBucketName", {"Ref": "BucketName"})
    names = defaults(template) | {"AWS::AccountId": "123456789012", "AWS::Region": "eu-central-2"}
    stack_id = "arn:aws:cloudformation:eu-central-2:123456789012:stack/My-Stack/5b2a7c10-1f2e-11ef-9c3a-0a1b2c3d4e5f"
    names["StackIdHex"] = stack_id.split("/")[2].split("-")[0]
    generated_name = sub({"Fn::Sub": generated["Fn::Sub"][0]}, names)
    assert generated_name == "clemap-123456789012-eu-central-2-5b2a7c10"
    assert re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", generated_name)


def test_s3_notification_is_the_minutes_csvs_only(template: dict[str, Any]) -> None:
    (event,) = resource(template, "RetrainTrigger")["Events"].values()
    assert event["Type"] == "S3" and event["Properties"]["Bucket"] == {"Ref": "DataBucket"}
    assert event["Properties"]["Events"] == "s3:ObjectCreated:*"
    rules = {rule["Name"]: rule["Value"] for rule in event["Properties"]["Filter"]["S3Key"]["Rules"]}
    assert rules == {"prefix": {"Fn::Sub": "${DataPrefix}minutes/"}, "suffix": ".csv"}
    prefix = sub(rules["prefix"], defaults(template))

    def notifies(key: str) -> bool:
        return key.startswith(prefix) and key.endswith(rules["suffix"])

    assert notifies(exporter_key("data/", "SE1", "2026-12-06", "05"))
    assert not notifies("data/Clemap_train.csv")
    assert not notifies("data/minutes/device=SE1/date=2026-12-06/hour=05.csv.tmp")


# MARK: - The functions


def test_functions_environment_is_the_contract(template: dict[str, Any]) -> None:
    trigger, publish = readme_environment()
    assert len(trigger) == 16, trigger
    assert set(resource(template, "RetrainTrigger")["Environment"]["Variables"]) == trigger
    assert set(resource(template, "PublishModel")["Environment"]["Variables"]) == publish == {"BUCKET", "MODEL_PREFIX", "JOB_PREFIX"}


def test_functions_runtime_and_handlers(template: dict[str, Any]) -> None:
    function = template["Globals"]["Function"]
    assert (function["Runtime"], function["Architectures"], function["CodeUri"]) == ("python3.12", ["arm64"], ".")
    assert (function["Timeout"], function["MemorySize"]) == (60, 256)
    assert resource(template, "RetrainTrigger")["Handler"] == "functions.trigger.handler"
    assert resource(template, "PublishModel")["Handler"] == "functions.publish.handler"


def test_publisher_rule_matches_only_completed_jobs_of_this_stack(template: dict[str, Any]) -> None:
    (event,) = resource(template, "PublishModel")["Events"].values()
    assert event["Type"] == "EventBridgeRule"
    assert event["Properties"]["Pattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Training Job State Change"],
        "detail": {"TrainingJobStatus": ["Completed"], "TrainingJobName": [{"prefix": {"Fn::Sub": "${JobPrefix}-"}}]},
    }


def test_scheduler_role_invokes_only_the_trigger(template: dict[str, Any]) -> None:
    (trust,) = resource(template, "SchedulerRole")["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    (invoke,) = resource(template, "SchedulerInvokePolicy")["PolicyDocument"]["Statement"]
    assert references(invoke["Resource"]) == {"RetrainTrigger"}


# MARK: - Glue / Athena


def test_glue_columns_are_the_lake_header(template: dict[str, Any]) -> None:
    """Names and order from meter_data; INTEGER → int (time, Unix seconds, → bigint), REAL → double."""
    expected = [{"Name": name, "Type": "bigint" if name == "time" else {"INTEGER": "int", "REAL": "double"}[kind]}
                for name, kind in meter_data_columns()]
    assert len(expected) == 50, "migration 1's 37 columns and migration 2's 13"
    columns = resource(template, "MinutesTable")["TableInput"]["StorageDescriptor"]["Columns"]
    assert [{"Name": c["Name"], "Type": c["Type"]} for c in columns] == expected


def test_glue_table_reads_the_exporters_csv(template: dict[str, Any]) -> None:
    table = resource(template, "MinutesTable")["TableInput"]
    assert table["TableType"] == "EXTERNAL_TABLE"
    assert table["Parameters"]["skip.header.line.count"] == "1"
    serde = table["StorageDescriptor"]["SerdeInfo"]
    assert serde["SerializationLibrary"] == "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
    assert serde["Parameters"]["field.delim"] == "," and serde["Parameters"]["serialization.null.format"] == ""


def test_glue_partition_projection_matches_the_key_layout(template: dict[str, Any]) -> None:
    table = resource(template, "MinutesTable")["TableInput"]
    assert table["PartitionKeys"] == [{"Name": "device", "Type": "string"}, {"Name": "date", "Type": "string"}]
    parameters = table["Parameters"]
    assert {k: v for k, v in parameters.items() if k.startswith("projection.")} == {
        "projection.enabled": "true",
        "projection.device.type": "injected",
        "projection.date.type": "date",
        "projection.date.format": "yyyy-MM-dd",
        "projection.date.range": "2020-01-01,NOW",
        "projection.date.interval": "1",
        "projection.date.interval.unit": "DAYS",
    }
    names = defaults(template)
    location = sub(table["StorageDescriptor"]["Location"], names)
    template_location = sub(parameters["storage.location.template"], names)
    assert location == "s3://lake-bucket/data/minutes/"
    partition = template_location.replace("${device}", "SE-0042").replace("${date}", "2026-12-06")
    key = "s3://lake-bucket/" + exporter_key("data/", "SE-0042", "2026-12-06", "05")
    assert partition == "s3://lake-bucket/data/minutes/device=SE-0042/date=2026-12-06/"
    assert key.startswith(partition) and "/" not in key[len(partition):], key


# MARK: - Outputs


def test_outputs_name_what_a_meter_needs(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert outputs["Bucket"]["Value"] == {"Ref": "DataBucket"}
    assert outputs["DevicePolicyArn"]["Value"] == {"Ref": "DevicePolicy"}
    config = sub(outputs["DeviceConfig"]["Value"], defaults(template) | {"AWS::Region": "REGION"})
    assert "model_prefix = models/device=<hw_serial>/" in config and "data_prefix = data/" in config
    assert references(outputs["GlueTable"]["Value"]) == {"GlueDatabase", "MinutesTable"}


# MARK: - sam validate (only with SAM_CLI)

if os.environ.get("SAM_CLI"):

    def test_sam_validate_lint() -> None:
        """Offline: dummy credentials, no telemetry. A set SAM_CLI that fails is a failure, never a skip."""
        environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")} | {
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
            "AWS_EC2_METADATA_DISABLED": "true", "SAM_CLI_TELEMETRY": "0",
        }
        command = [os.environ["SAM_CLI"], "validate", "--lint", "--template", str(TEMPLATE_PATH), "--region", "eu-central-1"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=environment)
        output = result.stdout + result.stderr
        assert result.returncode == 0 and "is a valid SAM Template" in output, f"{' '.join(command)}:\n{output}"
