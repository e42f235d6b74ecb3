"""ModelApprovalFlow (and the shared PythonFunction it runs on): rules, deployer, IAM, alarms."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from hypothesis import given, settings
from hypothesis import strategies as st

from sagemaker_lifecycle import MlNetwork
from sagemaker_lifecycle._internal.lambda_function import PythonFunction
from sagemaker_lifecycle.model_approval_flow import (
    DEPLOYMENT_EVENT_SOURCE,
    ENDPOINT_STATE_CHANGE,
    DeploymentEvent,
    ModelApprovalFlow,
)
from sagemaker_lifecycle.model_registry import MODEL_PACKAGE_STATE_CHANGE, ModelRegistry
from tests.support import new_stack, resources_of_type, template_of

ENDPOINT = "Churn-Prod"
GROUP = "churn-model"


def spec(role_arn: str, key_arn: str | None = None, **changes: Any) -> dict[str, Any]:
    """A deployment spec in RealtimeEndpoint.deployment_spec's shape (issue 5)."""
    value: dict[str, Any] = {
        "EndpointName": ENDPOINT,
        "Model": {"ExecutionRoleArn": role_arn, "EnableNetworkIsolation": True},
        "EndpointConfig": {
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 2,
                    "InitialVariantWeight": 1.0,
                }
            ],
            "DataCaptureConfig": {
                "EnableCapture": True,
                "InitialSamplingPercentage": 100,
                "DestinationS3Uri": "s3://capture/churn-prod",
                "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            },
        },
        "DeploymentConfig": {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {
                    "Type": "CANARY",
                    "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
                    "WaitIntervalInSeconds": 300,
                },
                "MaximumExecutionTimeoutInSeconds": 3600,
            },
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "churn-prod-5xx"}]},
        },
    }
    if key_arn is not None:
        value["EndpointConfig"]["KmsKeyId"] = key_arn
        value["EndpointConfig"]["DataCaptureConfig"]["KmsKeyId"] = key_arn
    value.update(changes)
    return value


def _base(stack: Stack) -> tuple[ModelRegistry, iam.Role, kms.Key]:
    registry = ModelRegistry(stack, "Registry", model_package_group_name=GROUP)
    role = iam.Role(stack, "ModelRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    volume_key = kms.Key(stack, "VolumeKey", enable_key_rotation=True)
    return registry, role, volume_key


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    stack = new_stack()
    registry, role, volume_key = _base(stack)
    flow = ModelApprovalFlow(
        stack,
        "Flow",
        registry=registry,
        endpoint_name=ENDPOINT,
        deployment_spec=spec(role.role_arn, volume_key.key_arn),
        approver_emails=["ml-approvers@example.com"],
    )
    flow.on_deployment_failed("OnFailed")
    return template_of(stack)


@pytest.fixture(scope="module")
def vpc_template() -> dict[str, Any]:
    stack = new_stack()
    registry, role, _ = _base(stack)
    network = MlNetwork(stack, "Network")
    ModelApprovalFlow(
        stack,
        "Flow",
        registry=registry,
        endpoint_name=ENDPOINT,
        deployment_spec=spec(role.role_arn),
        network=network,
    )
    return template_of(stack)


def _one(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    (resource,) = resources_of_type(template, resource_type).values()
    return resource  # type: ignore[no-any-return]


def _rule(template: dict[str, Any], construct_id: str) -> dict[str, Any]:
    (rule,) = [
        r
        for logical_id, r in resources_of_type(template, "AWS::Events::Rule").items()
        if logical_id.startswith(f"Flow{construct_id}")
    ]
    return rule  # type: ignore[no-any-return]


def _deployer_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    (policy,) = [
        p
        for p in resources_of_type(template, "AWS::IAM::Policy").values()
        if p["Properties"]["Roles"][0]["Ref"].startswith("FlowDeployerRole")
    ]
    return policy["Properties"]["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]


def _flat(value: Any) -> str:
    if isinstance(value, dict) and "Fn::Join" in value:
        return "".join(_flat(p) for p in value["Fn::Join"][1])
    if isinstance(value, dict) and "Ref" in value:
        return "${" + str(value["Ref"]) + "}"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    return str(value)


def _resources(statement: dict[str, Any]) -> list[str]:
    value = statement["Resource"]
    return [_flat(r) for r in (value if isinstance(value, list) else [value])]


def _actions(statement: dict[str, Any]) -> list[str]:
    value = statement["Action"]
    return value if isinstance(value, list) else [value]


# --- the rules ----------------------------------------------------------------------------------


def test_approval_rule_matches_only_approval_changes_of_this_group(
    template: dict[str, Any],
) -> None:
    rule = _rule(template, "ApprovalDecisionRule")
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": [MODEL_PACKAGE_STATE_CHANGE],
        "detail": {
            "ModelPackageGroupName": [GROUP],
            "ModelApprovalStatus": ["Approved", "Rejected"],
            "UpdatedModelPackageFields": ["ModelApprovalStatus", {"exists": False}],
        },
    }
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"]["Fn::GetAtt"][0].startswith("FlowDeployerFunction")


def test_pending_rule_tells_the_approvers_with_a_readable_message(template: dict[str, Any]) -> None:
    rule = _rule(template, "PendingApprovalRule")
    assert rule["Properties"]["EventPattern"]["detail"]["ModelApprovalStatus"] == [
        "PendingManualApproval"
    ]
    assert rule["Properties"]["EventPattern"]["detail"]["ModelPackageGroupName"] == [GROUP]
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"]["Ref"].startswith("FlowApproversTopic")
    transformer = target["InputTransformer"]
    assert set(transformer["InputPathsMap"].values()) == {
        "$.detail.ModelPackageGroupName",
        "$.detail.ModelPackageVersion",
        "$.detail.ModelPackageArn",
        "$.detail.ModelMetrics.ModelQuality.Statistics.S3Uri",
    }
    message = transformer["InputTemplate"]
    for placeholder in transformer["InputPathsMap"]:
        assert f"<{placeholder}>" in message
    assert "waiting for approval" in message
    assert "python -m sagemaker_lifecycle.approve" in message


def test_endpoint_rule_matches_only_this_endpoint(template: dict[str, Any]) -> None:
    rule = _rule(template, "EndpointStateRule")
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": [ENDPOINT_STATE_CHANGE],
        "detail": {"EndpointName": [ENDPOINT]},
    }


@pytest.mark.parametrize(
    "construct_id", ["PendingApprovalRule", "ApprovalDecisionRule", "EndpointStateRule"]
)
def test_every_target_retries_then_dead_letters(
    template: dict[str, Any], construct_id: str
) -> None:
    (target,) = _rule(template, construct_id)["Properties"]["Targets"]
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 21600}
    assert target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0].startswith("FlowDeadLetterQueue")


def test_deployment_events_can_be_routed(template: dict[str, Any]) -> None:
    rule = _rule(template, "OnFailed")
    assert rule["Properties"]["EventPattern"] == {
        "source": [DEPLOYMENT_EVENT_SOURCE],
        "detail-type": ["Model Deployment Failed"],
        "detail": {"EndpointName": [ENDPOINT]},
    }


# --- the deployer -------------------------------------------------------------------------------


def test_deployer_runs_one_at_a_time_on_the_latest_python_with_tracing(
    template: dict[str, Any],
) -> None:
    function = _one(template, "AWS::Lambda::Function")["Properties"]
    assert function["Runtime"] == "python3.14"
    assert function["Handler"] == "index.handler"
    assert function["ReservedConcurrentExecutions"] == 1
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert function["KmsKeyArn"]["Fn::GetAtt"][0].startswith("FlowKey")
    assert function["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0].startswith(
        "FlowDeadLetterQueue"
    )
    assert "VpcConfig" not in function


def test_failed_asynchronous_invocations_are_retried(template: dict[str, Any]) -> None:
    config = _one(template, "AWS::Lambda::EventInvokeConfig")["Properties"]
    assert config["MaximumRetryAttempts"] == 2
    assert config["MaximumEventAgeInSeconds"] == 21600


def test_deployer_environment_holds_the_spec_and_the_names(template: dict[str, Any]) -> None:
    env = _one(template, "AWS::Lambda::Function")["Properties"]["Environment"]["Variables"]
    assert env["MODEL_PACKAGE_GROUP_NAME"] == GROUP
    assert env["ENDPOINT_NAME"] == ENDPOINT
    assert env["NAME_PREFIX"] == "churn-prod"
    assert env["EVENT_BUS_NAME"] == "default"
    assert env["EVENT_SOURCE"] == DEPLOYMENT_EVENT_SOURCE
    assert env["ALLOW_ROLLBACK_BY_APPROVAL"] == "false"
    assert env["APPROVERS_TOPIC_ARN"]["Ref"].startswith("FlowApproversTopic")
    rendered = _flat(env["DEPLOYMENT_SPEC"])
    assert rendered.startswith(
        '{"EndpointName":"Churn-Prod","Model":{"ExecutionRoleArn":"${ModelRole'
    )
    assert '"DeploymentConfig":{"BlueGreenUpdatePolicy"' in rendered
    assert "DEPLOYMENT_SPEC_PARAMETER" not in env


def test_deployer_logs_to_its_own_encrypted_log_group(template: dict[str, Any]) -> None:
    group = _one(template, "AWS::Logs::LogGroup")
    assert group["Properties"]["RetentionInDays"] == 365
    assert group["Properties"]["KmsKeyId"]["Fn::GetAtt"][0].startswith("FlowKey")
    assert group["DeletionPolicy"] == "Retain"
    function = _one(template, "AWS::Lambda::Function")["Properties"]
    assert function["LoggingConfig"]["LogGroup"]["Ref"].startswith("FlowDeployerLogGroup")


def test_deployer_runs_in_the_private_subnets_with_the_workload_group(
    vpc_template: dict[str, Any],
) -> None:
    (function,) = [
        f["Properties"]
        for logical_id, f in resources_of_type(vpc_template, "AWS::Lambda::Function").items()
        if logical_id.startswith("FlowDeployerFunction")
    ]
    (group,) = function["VpcConfig"]["SecurityGroupIds"]
    assert group["Fn::GetAtt"][0].startswith("NetworkWorkloadSecurityGroup")
    subnets = {s["Ref"] for s in function["VpcConfig"]["SubnetIds"]}
    assert subnets == set(resources_of_type(vpc_template, "AWS::EC2::Subnet"))
    eni = [
        s for s in _deployer_statements(vpc_template) if "ec2:CreateNetworkInterface" in _actions(s)
    ]
    assert len(eni) == 1


def test_dead_letter_queue_is_encrypted_retained_and_alarmed(template: dict[str, Any]) -> None:
    queue = _one(template, "AWS::SQS::Queue")
    assert queue["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0].startswith("FlowKey")
    assert queue["DeletionPolicy"] == "Retain"
    alarm = _one(template, "AWS::CloudWatch::Alarm")["Properties"]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["Dimensions"][0]["Value"]["Fn::GetAtt"][0].startswith("FlowDeadLetterQueue")
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["TreatMissingData"] == "notBreaching"
    (action,) = alarm["AlarmActions"]
    assert action["Ref"].startswith("FlowApproversTopic")


def test_topic_is_encrypted_tls_only_and_subscribed(template: dict[str, Any]) -> None:
    topic = _one(template, "AWS::SNS::Topic")["Properties"]
    assert topic["KmsMasterKeyId"]["Fn::GetAtt"][0].startswith("FlowKey")
    statements = _one(template, "AWS::SNS::TopicPolicy")["Properties"]["PolicyDocument"][
        "Statement"
    ]
    assert any(
        s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )
    subscription = _one(template, "AWS::SNS::Subscription")["Properties"]
    assert (subscription["Protocol"], subscription["Endpoint"]) == (
        "email",
        "ml-approvers@example.com",
    )


def test_key_lets_eventbridge_cloudwatch_and_logs_use_it(template: dict[str, Any]) -> None:
    keys = [
        k
        for logical_id, k in resources_of_type(template, "AWS::KMS::Key").items()
        if logical_id.startswith("FlowKey")
    ]
    (key,) = keys
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"
    principals = [
        _flat(s["Principal"].get("Service", ""))
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if "Service" in s.get("Principal", {})
    ]
    assert "events.amazonaws.com" in principals
    assert "cloudwatch.amazonaws.com" in principals
    assert "logs.${AWS::Region}.amazonaws.com" in principals


# --- least privilege ----------------------------------------------------------------------------


def test_no_sagemaker_action_is_granted_on_star(template: dict[str, Any]) -> None:
    for statement in _deployer_statements(template):
        if any(a.startswith("sagemaker:") for a in _actions(statement)):
            assert "*" not in statement["Resource"]
            for resource in _resources(statement):
                assert ":sagemaker:${AWS::Region}:${AWS::AccountId}:" in resource


def test_sagemaker_actions_are_scoped_to_the_group_endpoint_and_prefix(
    template: dict[str, Any],
) -> None:
    scopes: dict[str, set[str]] = {}
    for statement in _deployer_statements(template):
        for action in _actions(statement):
            if action.startswith("sagemaker:"):
                scopes.setdefault(action, set()).update(
                    r.rsplit(":", 1)[1] for r in _resources(statement)
                )
    endpoint = {"endpoint/Churn-Prod", "endpoint/churn-prod"}
    configs = {"endpoint-config/churn-prod-v*"}
    assert scopes == {
        "sagemaker:DescribeModelPackage": {"model-package/churn-model/*"},
        "sagemaker:CreateModel": {"model/churn-prod-v*", "model-package/churn-model/*"},
        "sagemaker:DescribeModel": {"model/churn-prod-v*"},
        "sagemaker:CreateEndpointConfig": configs,
        "sagemaker:DescribeEndpointConfig": {*configs, "endpoint-config/*"},
        "sagemaker:CreateEndpoint": endpoint | configs,
        "sagemaker:UpdateEndpoint": endpoint | configs,
        "sagemaker:DescribeEndpoint": endpoint,
        "sagemaker:ListTags": endpoint,
        "sagemaker:DeleteTags": endpoint,
        "sagemaker:AddTags": endpoint | configs | {"model/churn-prod-v*"},
    }


def test_only_the_model_role_may_be_passed_and_only_to_sagemaker(template: dict[str, Any]) -> None:
    (statement,) = [s for s in _deployer_statements(template) if "iam:PassRole" in _actions(s)]
    assert _actions(statement) == ["iam:PassRole"]
    assert statement["Resource"]["Fn::GetAtt"][0].startswith("ModelRole")
    assert statement["Resource"]["Fn::GetAtt"][1] == "Arn"
    assert statement["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }


def test_events_are_put_on_the_default_bus_only(template: dict[str, Any]) -> None:
    (statement,) = [s for s in _deployer_statements(template) if "events:PutEvents" in _actions(s)]
    assert _resources(statement) == [
        "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"
    ]


def test_the_volume_key_of_the_spec_may_only_be_granted_to_sagemaker(
    template: dict[str, Any],
) -> None:
    (grant,) = [s for s in _deployer_statements(template) if "kms:CreateGrant" in _actions(s)]
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    assert grant["Resource"]["Fn::GetAtt"][0].startswith("VolumeKey")  # named once
    (describe,) = [s for s in _deployer_statements(template) if "kms:DescribeKey" in _actions(s)]
    assert "Condition" not in describe


def test_publishing_is_limited_to_the_approvers_topic(template: dict[str, Any]) -> None:
    (statement,) = [s for s in _deployer_statements(template) if "sns:Publish" in _actions(s)]
    assert statement["Resource"]["Ref"].startswith("FlowApproversTopic")


# --- the spec's size decides where it lives -----------------------------------------------------


def _big_spec(role_arn: str, alarms: int) -> dict[str, Any]:
    big = spec(role_arn)
    big["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"] = [
        {"AlarmName": f"churn-prod-guardrail-{i:03d}-" + "x" * 80} for i in range(alarms)
    ]
    return big


def test_a_spec_too_large_for_the_environment_is_kept_in_ssm() -> None:
    stack = new_stack()
    registry, role, _ = _base(stack)
    flow = ModelApprovalFlow(
        stack,
        "Flow",
        registry=registry,
        endpoint_name=ENDPOINT,
        deployment_spec=_big_spec(role.role_arn, 40),
    )
    template = template_of(stack)
    parameter = _one(template, "AWS::SSM::Parameter")["Properties"]
    assert parameter["Type"] == "String"
    assert parameter["Tier"] == "Advanced"
    assert _flat(parameter["Value"]).startswith('{"EndpointName":"Churn-Prod"')
    env = _one(template, "AWS::Lambda::Function")["Properties"]["Environment"]["Variables"]
    assert "DEPLOYMENT_SPEC" not in env
    assert env["DEPLOYMENT_SPEC_PARAMETER"]["Ref"].startswith("FlowDeploymentSpec")
    assert flow.spec_parameter is not None
    reads = [s for s in _deployer_statements(template) if "ssm:GetParameter" in _actions(s)]
    assert len(reads) == 1
    assert reads[0]["Resource"]["Fn::Join"][1][-1]["Ref"].startswith("FlowDeploymentSpec")


def test_a_spec_too_large_for_ssm_is_rejected() -> None:
    stack = new_stack()
    registry, role, _ = _base(stack)
    with pytest.raises(ValueError, match="at most 8192 fit in an SSM parameter"):
        ModelApprovalFlow(
            stack,
            "Flow",
            registry=registry,
            endpoint_name=ENDPOINT,
            deployment_spec=_big_spec(role.role_arn, 90),
        )


def test_a_large_spec_needs_an_ssm_endpoint_in_the_network() -> None:
    stack = new_stack()
    registry, role, _ = _base(stack)
    network = MlNetwork(
        stack, "Network", interface_endpoints={"Sts": ec2.InterfaceVpcEndpointAwsService.STS}
    )
    with pytest.raises(ValueError, match="network has no 'ssm' interface endpoint"):
        ModelApprovalFlow(
            stack,
            "Flow",
            registry=registry,
            endpoint_name=ENDPOINT,
            deployment_spec=_big_spec(role.role_arn, 40),
            network=network,
        )
    other = new_stack()
    registry, role, _ = _base(other)
    with_ssm = MlNetwork(
        other, "Network", interface_endpoints={"Ssm": ec2.InterfaceVpcEndpointAwsService.SSM}
    )
    flow = ModelApprovalFlow(
        other,
        "Flow",
        registry=registry,
        endpoint_name=ENDPOINT,
        deployment_spec=_big_spec(role.role_arn, 40),
        network=with_ssm,
    )
    assert flow.spec_parameter is not None


# --- validation ---------------------------------------------------------------------------------


def _spec_with(**edits: Any) -> dict[str, Any]:
    value = spec("arn:aws:iam::123456789012:role/model")
    for path, new in edits.items():
        target: Any = value
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target[key]
        if new is _DELETE:
            del target[keys[-1]]
        else:
            target[int(keys[-1]) if keys[-1].isdigit() else keys[-1]] = new
    return value


_DELETE = object()


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"endpoint_name": "churn_prod"}, "endpoint_name must match"),
        (
            {"deployment_spec": _spec_with(Extra={})},
            r"deployment_spec has unknown keys \['Extra'\]",
        ),
        (
            {"deployment_spec": _spec_with(Model=_DELETE)},
            r"deployment_spec\['Model'\] must be an object",
        ),
        ({"deployment_spec": _spec_with(EndpointName="other")}, "must equal endpoint_name"),
        (
            {"deployment_spec": _spec_with(Model__ExecutionRoleArn=_DELETE)},
            "must name the ExecutionRoleArn",
        ),
        (
            {"deployment_spec": _spec_with(Model__ModelName="m")},
            r"\['Model'\] must not set ModelName",
        ),
        (
            {"deployment_spec": _spec_with(Model__Image="x")},
            "'Image', which is not a CreateModel request member",
        ),
        ({"deployment_spec": _spec_with(EndpointConfig__Tags=[])}, "must not set Tags"),
        (
            {"deployment_spec": _spec_with(EndpointConfig__ProductionVariants__0__ModelName="m")},
            r"\[0\] must not set ModelName: the deployer sets it",
        ),
        (
            {"deployment_spec": _spec_with(EndpointConfig__ProductionVariants__0__Weight=1)},
            r"\[0\] must not set Weight",
        ),
        (
            {
                "deployment_spec": _spec_with(
                    EndpointConfig__ProductionVariants__0__InstanceType="ml.m5.lage"
                )
            },
            "InstanceType'\\] 'ml.m5.lage' is not one of",
        ),
        (
            {
                "deployment_spec": _spec_with(
                    EndpointConfig__ProductionVariants__0__VariantName="all traffic"
                )
            },
            r"\['VariantName'\] must match",
        ),
        (
            {"deployment_spec": _spec_with(EndpointConfig__ProductionVariants=[])},
            "must be a non-empty list",
        ),
        (
            {
                "deployment_spec": _spec_with(
                    EndpointConfig__ProductionVariants=[{"VariantName": "A"}, {"VariantName": "A"}]
                )
            },
            r"repeats variant names \['A'\]",
        ),
        (
            {"deployment_spec": _spec_with(DeploymentConfig__Canary={})},
            "DeploymentConfig does not have",
        ),
        ({"deployment_spec": _spec_with(Model__Timeout=Duration.minutes(1))}, "only JSON values"),
        ({"name_prefix": "Churn"}, "name_prefix must be 1 to 40 lowercase"),
        ({"name_prefix": "a" * 41}, "name_prefix must be 1 to 40"),
        ({"retry_attempts": 3}, "retry_attempts must be from 0 to 2, got 3"),
        ({"approver_emails": ["not-an-address"]}, "approver_emails must hold email addresses"),
    ],
)
def test_invalid_props_are_rejected_at_synth_time(props: dict[str, Any], message: str) -> None:
    stack = new_stack()
    registry = ModelRegistry(stack, "Registry", model_package_group_name=GROUP)
    values: dict[str, Any] = {
        "registry": registry,
        "endpoint_name": ENDPOINT,
        "deployment_spec": spec("arn:aws:iam::123456789012:role/model"),
        **props,
    }
    with pytest.raises(ValueError, match=message):
        ModelApprovalFlow(stack, "Flow", **values)


def test_emails_are_subscribed_to_our_topic_not_to_one_passed_in() -> None:
    stack = new_stack()
    registry = ModelRegistry(stack, "Registry", model_package_group_name=GROUP)
    topic = sns.Topic(stack, "Existing")
    with pytest.raises(ValueError, match="subscribe them to the approvers_topic you pass"):
        ModelApprovalFlow(
            stack,
            "Flow",
            registry=registry,
            endpoint_name=ENDPOINT,
            deployment_spec=spec("arn:aws:iam::123456789012:role/model"),
            approvers_topic=topic,
            approver_emails=["a@example.com"],
        )


def test_a_deploy_time_endpoint_name_needs_a_name_prefix() -> None:
    stack = new_stack()
    registry = ModelRegistry(stack, "Registry", model_package_group_name=GROUP)
    name = sns.Topic(stack, "T").topic_name  # any deploy-time string
    with pytest.raises(
        ValueError, match="name_prefix is required when endpoint_name is a deploy-time"
    ):
        ModelApprovalFlow(
            stack,
            "Flow",
            registry=registry,
            endpoint_name=name,
            deployment_spec=spec("arn:aws:iam::123456789012:role/model", EndpointName=name),
        )


def test_every_invalid_prop_is_reported_at_once() -> None:
    stack = new_stack()
    registry = ModelRegistry(stack, "Registry", model_package_group_name=GROUP)
    with pytest.raises(ValueError, match="endpoint_name") as error:
        ModelApprovalFlow(
            stack,
            "Flow",
            registry=registry,
            endpoint_name="bad_name",
            deployment_spec=spec("arn:aws:iam::123456789012:role/model", EndpointName="bad_name"),
            retry_attempts=9,
        )
    assert "retry_attempts" in str(error.value)


_ENDPOINT_NAME = st.from_regex(r"[a-zA-Z0-9](-?[a-zA-Z0-9]){0,62}", fullmatch=True)


@settings(max_examples=40, deadline=None)
@given(name=_ENDPOINT_NAME)
def test_any_endpoint_name_gives_a_valid_prefix(name: str) -> None:
    from sagemaker_lifecycle._internal.validation import ValidationErrors
    from sagemaker_lifecycle.model_approval_flow import _NAME_PREFIX, _name_prefix

    errors = ValidationErrors("Test")
    prefix = _name_prefix(errors, None, name)
    errors.raise_if_any()
    assert 1 <= len(prefix) <= 40
    assert _NAME_PREFIX.match(prefix)
    assert name.lower().startswith(prefix)


_MEMBER = st.text(
    alphabet=st.characters(min_codepoint=65, max_codepoint=122), min_size=1, max_size=20
)


@settings(max_examples=40, deadline=None)
@given(member=_MEMBER)
def test_any_model_member_outside_create_model_is_rejected(member: str) -> None:
    from sagemaker_lifecycle._internal.sagemaker_api import operation
    from sagemaker_lifecycle._internal.validation import ValidationErrors
    from sagemaker_lifecycle.model_approval_flow import _check_spec

    value = spec("arn:aws:iam::123456789012:role/model")
    value["Model"][member] = "x"
    errors = ValidationErrors("Test")
    _check_spec(errors, value, ENDPOINT)
    input_shape = operation("CreateModel").input_shape
    assert input_shape is not None
    allowed = set(input_shape.members) - {"ModelName", "PrimaryContainer", "Containers", "Tags"}
    assert (member in allowed or member == "ExecutionRoleArn") == (errors._errors == [])


# --- the shared Lambda helper -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"source": "no_such_function"}, "source 'no_such_function' has no index.py"),
        ({"memory_size": 64}, "memory_size must be from 128 to 10240, got 64"),
        ({"timeout": Duration.minutes(16)}, "timeout must be from 1 to 900 seconds"),
        ({"reserved_concurrent_executions": 0}, "reserved_concurrent_executions must be from 1"),
        ({"retry_attempts": 3}, "retry_attempts must be from 0 to 2"),
        ({"max_event_age": Duration.seconds(30)}, "max_event_age must be from 60 to 21600 seconds"),
        ({"environment": {"AWS_REGION": "x"}}, "environment variable name 'AWS_REGION'"),
        ({"environment": {"1BAD": "x"}}, "environment variable name '1BAD'"),
    ],
)
def test_python_function_rejects_invalid_props(props: dict[str, Any], message: str) -> None:
    stack = new_stack()
    values: dict[str, Any] = {
        "source": "deploy_approved_model",
        "description": "test",
        "key": kms.Key(stack, "Key"),
        **props,
    }
    with pytest.raises(ValueError, match=message):
        PythonFunction(stack, "Function", **values)


def test_python_function_defaults_are_secure() -> None:
    stack = new_stack()
    function = PythonFunction(
        stack,
        "Function",
        source="deploy_approved_model",
        description="test",
        key=kms.Key(stack, "Key", enable_key_rotation=True),
    )
    template = template_of(stack)
    props = _one(template, "AWS::Lambda::Function")["Properties"]
    assert props["ReservedConcurrentExecutions"] == 1
    assert props["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0].startswith(
        "FunctionDeadLetterQueue"
    )
    assert resources_of_type(template, "AWS::IAM::Role")
    role = _one(template, "AWS::IAM::Role")["Properties"]
    assert "ManagedPolicyArns" not in role  # no AWSLambdaBasicExecutionRole
    assert (
        function.metric_dead_letter_messages().metric_name == "ApproximateNumberOfMessagesVisible"
    )
    assert function.metric_errors().metric_name == "Errors"


def test_flow_metrics_name_the_queue_and_the_function() -> None:
    stack = new_stack()
    registry, role, _ = _base(stack)
    flow = ModelApprovalFlow(
        stack,
        "Flow",
        registry=registry,
        endpoint_name=ENDPOINT,
        deployment_spec=spec(role.role_arn),
    )
    assert flow.metric_dead_letter_messages().statistic == "Maximum"
    assert flow.metric_deployer_errors().metric_name == "Errors"
    pattern = flow.deployment_event_pattern(DeploymentEvent.SUCCEEDED)
    assert pattern.detail_type == ["Model Deployment Succeeded"]
    assert flow.deployment_event_pattern().detail_type == [e.value for e in DeploymentEvent]
    assert copy.deepcopy(pattern.source) == [DEPLOYMENT_EVENT_SOURCE]


def test_the_construct_and_the_handler_spell_the_deployment_events_alike() -> None:
    """The handler cannot import the library, so the names are pinned here."""
    import sys

    from tests.handlers.loader import load_handler_module

    index = load_handler_module("deploy_approved_model")
    deployer = sys.modules[index.handle.__module__]
    assert {e.value for e in DeploymentEvent} == {
        deployer.DEPLOYMENT_STARTED,
        deployer.DEPLOYMENT_SUCCEEDED,
        deployer.DEPLOYMENT_FAILED,
    }
    assert deployer.ENDPOINT_STATE_CHANGE == ENDPOINT_STATE_CHANGE
    assert deployer.PACKAGE_STATE_CHANGE == MODEL_PACKAGE_STATE_CHANGE
