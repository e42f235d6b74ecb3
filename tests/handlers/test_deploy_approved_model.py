"""The deployer of the approval flow against moto: every real-world event the issue lists.

Each test builds the AWS state a scenario needs (a registry, an endpoint the serving stack
created), sends the EventBridge event, and asserts on AWS afterwards: which models and
endpoint configurations exist, what the endpoint runs and how it is tagged, which custom
events reached the bus and which messages reached the approvers topic.
"""

from __future__ import annotations

import json
import sys
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.handlers.loader import load_handler_module
from tests.handlers.sagemaker_fakes import (
    ENDPOINT,
    EVENT_SOURCE,
    GROUP,
    INSTANCE_TYPE,
    REGION,
    FakeAccount,
    aws,
    fail_next,
    set_desired_instance_count,
    set_endpoint_state,
    set_package_status,
)

__all__ = ["aws"]  # the fixture, imported so pytest finds it

PREFIX = "churn-prod"
ROLLOUT_ALARM = "churn-prod-5xx"


@pytest.fixture
def index() -> ModuleType:
    return load_handler_module("deploy_approved_model")


@pytest.fixture
def deployer(index: ModuleType) -> ModuleType:
    return sys.modules[index.handle.__module__]


def spec(
    role_arn: str, *, instance_type: str = INSTANCE_TYPE, variant: str = "AllTraffic"
) -> dict[str, Any]:
    """A deployment spec in the shape RealtimeEndpoint.deployment_spec has (issue 5)."""
    return {
        "EndpointName": ENDPOINT,
        "Model": {
            "ExecutionRoleArn": role_arn,
            "VpcConfig": {
                "SecurityGroupIds": ["sg-0123456789abcdef0"],
                "Subnets": ["subnet-1", "subnet-2"],
            },
            "EnableNetworkIsolation": True,
        },
        "EndpointConfig": {
            "ProductionVariants": [
                {
                    "VariantName": variant,
                    "InstanceType": instance_type,
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
                "TerminationWaitInSeconds": 300,
                "MaximumExecutionTimeoutInSeconds": 3600,
            },
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": ROLLOUT_ALARM}]},
        },
    }


def settings(deployer: ModuleType, aws: FakeAccount, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "group": GROUP,
        "endpoint_name": ENDPOINT,
        "name_prefix": PREFIX,
        "spec": spec(aws.role_arn),
        "event_bus": "default",
        "event_source": EVENT_SOURCE,
        "topic_arn": aws.topic_arn,
        "allow_rollback": False,
        **overrides,
    }
    return deployer.Settings(**values)


def clients(deployer: ModuleType, aws: FakeAccount) -> Any:
    return deployer.Clients(sagemaker=aws.sagemaker, events=aws.events, sns=aws.sns)


def package_event(
    arn: str, status: str = "Approved", *, fields: list[str] | None = None, group: str = GROUP
) -> dict[str, Any]:
    """The event SageMaker sends (Developer Guide, "SageMaker model package state change")."""
    detail: dict[str, Any] = {
        "ModelPackageGroupName": group,
        "ModelPackageVersion": int(arn.rsplit("/", 1)[1]),
        "ModelPackageArn": arn,
        "ModelPackageStatus": "Completed",
        "ModelApprovalStatus": status,
        "ModelMetrics": {"ModelQuality": {"Statistics": {"S3Uri": "s3://artifacts/eval.json"}}},
    }
    if fields is not None:
        detail["UpdatedModelPackageFields"] = fields
    return {
        "version": "0",
        "id": "8e5ab4d2-0000-4000-8000-000000000001",
        "detail-type": "SageMaker Model Package State Change",
        "source": "aws.sagemaker",
        "account": "123456789012",
        "time": "2026-01-01T00:00:00Z",
        "region": REGION,
        "resources": [arn],
        "detail": detail,
    }


def endpoint_event(status: str = "IN_SERVICE", name: str = ENDPOINT) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "8e5ab4d2-0000-4000-8000-000000000002",
        "detail-type": "SageMaker Endpoint State Change",
        "source": "aws.sagemaker",
        "region": REGION,
        "resources": [],
        "detail": {"EndpointName": name, "EndpointStatus": status},
    }


def serving_stack_endpoint(aws: FakeAccount, *, instance_type: str = INSTANCE_TYPE) -> None:
    """The endpoint as the serving stack's CloudFormation created it (version 1 baked in)."""
    aws.sagemaker.create_model(
        ModelName="churn-initial",
        ExecutionRoleArn=aws.role_arn,
        PrimaryContainer={"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/x:1"},
    )
    aws.sagemaker.create_endpoint_config(
        EndpointConfigName="churn-initial-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "churn-initial",
                "InstanceType": instance_type,
                "InitialInstanceCount": 2,
                "InitialVariantWeight": 1.0,
            }
        ],
    )
    aws.sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="churn-initial-config")


def describe(aws: FakeAccount) -> dict[str, Any]:
    endpoint: dict[str, Any] = aws.sagemaker.describe_endpoint(EndpointName=ENDPOINT)
    return endpoint


def deploy_and_complete(
    deployer: ModuleType, aws: FakeAccount, arn: str, **overrides: Any
) -> dict[str, Any]:
    config = settings(deployer, aws, **overrides)
    result: dict[str, Any] = deployer.handle(package_event(arn), config, clients(deployer, aws))
    aws.updates.complete()
    deployer.handle(endpoint_event(), config, clients(deployer, aws))
    return result


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]


# --- the happy paths ------------------------------------------------------------------------


def test_approval_updates_the_endpoint_blue_green_with_the_serving_spec(
    deployer: ModuleType, aws: FakeAccount
) -> None:
    serving_stack_endpoint(aws)
    arn = aws.register_version()
    aws.approve(arn)
    config = settings(deployer, aws)

    result = deployer.handle(
        package_event(arn, fields=["ModelApprovalStatus"]), config, clients(deployer, aws)
    )

    name = config.resource_name(1)
    assert result == {
        "outcome": "started",
        "reason": f"updating the endpoint to {name}",
        "endpoint_config": name,
    }
    assert name.startswith("churn-prod-v1-")
    assert len(name) <= 63
    model = aws.sagemaker.describe_model(ModelName=name)
    assert model["PrimaryContainer"]["ModelPackageName"] == arn
    assert model["ExecutionRoleArn"] == aws.role_arn
    # moto keeps VpcConfig but drops EnableNetworkIsolation; both are passed through as given.
    assert model["VpcConfig"] == config.spec["Model"]["VpcConfig"]
    endpoint_config = aws.sagemaker.describe_endpoint_config(EndpointConfigName=name)
    assert [v["ModelName"] for v in endpoint_config["ProductionVariants"]] == [name]
    assert endpoint_config["DataCaptureConfig"]["DestinationS3Uri"] == "s3://capture/churn-prod"
    (request,) = aws.updates.requests
    assert request["EndpointConfigName"] == name
    assert request["DeploymentConfig"] == config.spec["DeploymentConfig"]
    assert request["RetainAllVariantProperties"] is True
    endpoint = describe(aws)
    assert endpoint["EndpointStatus"] == "Updating"
    assert endpoint["EndpointConfigName"] == "churn-initial-config"  # still serving the old one
    tags = aws.endpoint_tags()
    assert tags[deployer.TAG_PENDING] == arn
    assert tags[deployer.TAG_PENDING_CONFIG] == name
    assert deployer.TAG_DEPLOYED not in tags
    (started,) = aws.deployment_events()
    assert started["detail-type"] == "Model Deployment Started"
    assert started["source"] == EVENT_SOURCE
    assert started["detail"]["ModelPackageArn"] == arn
    assert started["detail"]["EndpointConfigName"] == name


def test_the_outcome_is_checked_when_the_endpoint_is_in_service_again(
    deployer: ModuleType, aws: FakeAccount
) -> None:
    serving_stack_endpoint(aws)
    arn = aws.register_version("Approved")
    config = settings(deployer, aws)
    deployer.handle(package_event(arn), config, clients(deployer, aws))
    aws.deployment_events()

    while_updating = deployer.handle(endpoint_event("UPDATING"), config, clients(deployer, aws))
    aws.updates.complete()
    result = deployer.handle(endpoint_event(), config, clients(deployer, aws))

    assert while_updating["outcome"] == "in-progress"
    assert result["outcome"] == "succeeded"
    assert describe(aws)["EndpointConfigName"] == config.resource_name(1)
    tags = aws.endpoint_tags()
    assert tags[deployer.TAG_DEPLOYED] == arn
    assert deployer.TAG_PENDING not in tags
    assert deployer.TAG_PENDING_CONFIG not in tags
    (succeeded,) = aws.deployment_events()
    assert succeeded["detail-type"] == "Model Deployment Succeeded"
    assert succeeded["detail"]["ModelPackageVersion"] == 1


def test_a_rollback_by_sagemaker_is_reported_as_a_failed_deployment(
    deployer: ModuleType, aws: FakeAccount
) -> None:
    serving_stack_endpoint(aws)
    first = aws.register_version("Approved")
    deploy_and_complete(deployer, aws, first)
    live_config = describe(aws)["EndpointConfigName"]
    second = aws.register_version("Approved")
    config = settings(deployer, aws)
    deployer.handle(package_event(second), config, clients(deployer, aws))
    aws.deployment_events()
    aws.notifications()

    aws.updates.roll_back(f"Alarm {ROLLOUT_ALARM} fired during the canary step")
    result = deployer.handle(endpoint_event(), config, clients(deployer, aws))

    assert result["outcome"] == "failed"
    endpoint = describe(aws)
    assert endpoint["EndpointStatus"] == "InService"
    assert endpoint["EndpointConfigName"] == live_config  # the old version still serves
    tags = aws.endpoint_tags()
    assert tags[deployer.TAG_DEPLOYED] == first
    assert deployer.TAG_PENDING not in tags
    (failed,) = aws.deployment_events()
    assert failed["detail-type"] == "Model Deployment Failed"
    assert failed["detail"]["ModelPackageArn"] == second
    assert ROLLOUT_ALARM in failed["detail"]["FailureReason"]
    (notice,) = aws.notifications()
    assert "failed" in notice["Subject"]
    assert second in notice["Message"]
    assert ROLLOUT_ALARM in notice["Message"]


def test_a_missing_endpoint_is_created_and_its_creation_checked(
    deployer: ModuleType, aws: FakeAccount
) -> None:
    arn = aws.register_version("Approved")
    config = settings(deployer, aws)

    started = deployer.handle(package_event(arn), config, clients(deployer, aws))
    succeeded = deployer.handle(endpoint_event(), config, clients(deployer, aws))

    assert started["outcome"] == "started"
    assert succeeded["outcome"] == "succeeded"
    assert describe(aws)["EndpointConfigName"] == config.resource_name(1)
    assert aws.endpoint_tags()[deployer.TAG_DEPLOYED] == arn
    assert aws.updates.requests == []
    assert [e["detail-type"] for e in aws.deployment_events()] == [
        "Model Deployment Started",
        "Model Deployment Succeeded",
    ]


def test_a_failed_creation_is_reported_with_its_reason(
    deployer: ModuleType, aws: FakeAccount
) -> None:
    arn = aws.register_version("Approved")
    config = settings(deployer, aws)
    deployer.handle(package_event(arn), config, clients(deployer, aws))
    set_endpoint_state(ENDPOINT, "Failed", "The primary container failed its ping health check")
    aws.deployment_events()

    result = deployer.handle(endpoint_event("FAILED"), config, clients(deployer, aws))

    assert result == {
        "outcome": "failed",
        "reason": "The primary container failed its ping health check",
    }
    assert deployer.TAG_DEPLOYED not in aws.endpoint_tags()
    assert [e["detail-type"] for e in aws.deployment_events()] == ["Model Deployment Failed"]


def test_a_version_registered_as_approved_is_deployed(
    deployer: ModuleType, aws: FakeAccount
) -> None:
    """A pipeline that approves at registration sends no UpdatedModelPackageFields."""
    serving_stack_endpoint(aws)
    arn = aws.register_version("Approved")

    result = deployer.handle(
        package_event(arn, fields=None), settings(deployer, aws), clients(deployer, aws)
    )

    assert result["outcome"] == "started"
    assert aws.endpoint_tags()[deployer.TAG_PENDING] == arn


# --- idempotency and ordering ---------------------------------------------------------------


def test_the_same_event_twice_is_a_no_op(deployer: ModuleType, aws: FakeAccount) -> None:
    serving_stack_endpoint(aws)
    arn = aws.register_version("Approved")
    deploy_and_complete(deployer, aws, arn)
    models, configs, tags = aws.model_names(), aws.endpoint_config_names(), aws.endpoint_tags()
    aws.deployment_events()

    again = deployer.handle(package_event(arn), settings(deployer, aws), clients(deployer, aws))

    assert again["outcome"] == "already-deployed"
    assert len(aws.updates.requests) == 1
    assert (aws.model_names(), aws.endpoint_config_names(), aws.endpoint_tags()) == (
        models,
        configs,
        tags,
    )
    assert aws.deployment_events() == []


def test_the_same_event_during_its_own_deployment_is_a_no_op(
    deployer: ModuleType, aws: FakeAccount
) -> None:
    serving_stack_endpoint(aws)
    arn = aws.register_version("Approved")
    config = settings(deployer, aws)
    deployer.handle(package_event(arn), config, clients(deployer, aws))

    again = deployer.handle(package_event(arn), config, clients(deployer, aws))

    assert again["outcome"] == "in-progress"
    assert len(aws.updates.requests) == 1


def test_an_older_version_approved_after_a_newer_one_is_not_deployed(
    deployer: ModuleType, aws: FakeAccount, capsys: pytest.CaptureFixture[str]
) -> None:
    serving_stack_endpoint(aws)
    older, newer = aws.register_version(), aws.register_version("Approved")
    deploy_and_complete(deployer, aws, newer)
    aws.approve(older)
    models, configs = aws.model_names(), aws.endpoint_config_names()
    capsys.readouterr()

    result = deployer.handle(package_event(older), settings(deployer, aws), clients(deployer, aws))

    assert result["outcome"] == "skipped"
    assert "older than the deployed version 2" in result["reason"]
    assert aws.endpoint_tags()[deployer.TAG_DEPLOYED] == newer
    assert (aws.model_names(), aws.endpoint_config_names()) == (models, configs)
    assert len(aws.updates.requests) == 1
    (notice,) = aws.notifications()
    assert "Not deploying churn-model v1" in notice["Subject"]
    (line,) = log_lines(capsys)
    assert line["level"] == "WARNING"
    assert "older" in line["reason"]


def test_an_older_version_is_deployed_when_rollbacks_by_approval_are_allowed(
    deployer: ModuleType, aws: FakeAccount
) -> None:
    serving_stack_endpoint(aws)
    older, newer = aws.register_version(), aws.register_version("Approved")
    deploy_and_complete(deployer, aws, newer)
    aws.approve(older)

    deploy_and_complete(deployer, aws, older, allow_rollback=True)

    assert aws.endpoint_tags()[deployer.TAG_DEPLOYED] == older


def test_a_lost_endpoint_event_is_settled_before_the_next_deployment(
    deployer: ModuleType, aws: FakeAccount
) -> None:
    serving_stack_endpoint(aws)
    first, second = aws.register_version("Approved"), aws.register_version("Approved")
    config = settings(deployer, aws)
    deployer.handle(package_event(first), config, clients(deployer, aws))
    aws.updates.complete()  # ...and the "SageMaker Endpoint State Change" event never arrives

    result = deployer.handle(package_event(second), config, clients(deployer, aws))

    assert result["outcome"] == "started"
    tags = aws.endpoint_tags()
    assert tags[deployer.TAG_DEPLOYED] == first
    assert tags[deployer.TAG_PENDING] == second
    assert [e["detail-type"] for e in aws.deployment_events()] == [
        "Model Deployment Started",
        "Model Deployment Succeeded",
        "Model Deployment Started",
    ]


def test_an_update_that_was_never_recorded_is_recorded_not_repeated(
    deployer: ModuleType, aws: FakeAccount
) -> None:
    serving_stack_endpoint(aws)
    arn = aws.register_version("Approved")
    config = settings(deployer, aws)
    deployer.handle(package_event(arn), config, clients(deployer, aws))
    endpoint_arn = describe(aws)["EndpointArn"]
    aws.sagemaker.delete_tags(
        ResourceArn=endpoint_arn, TagKeys=[deployer.TAG_PENDING, deployer.TAG_PENDING_CONFIG]
    )
    aws.updates.complete()

    result = deployer.handle(package_event(arn), config, clients(deployer, aws))

    assert result["outcome"] == "already-deployed"
    assert aws.endpoint_tags()[deployer.TAG_DEPLOYED] == arn
    assert len(aws.updates.requests) == 1


# --- events that must not change anything ---------------------------------------------------


def test_an_event_for_another_group_is_rejected_without_any_write(
    deployer: ModuleType, aws: FakeAccount, capsys: pytest.CaptureFixture[str]
) -> None:
    serving_stack_endpoint(aws)
    arn = aws.register_version("Approved", group="fraud-model")
    before = (aws.model_names(), aws.endpoint_config_names(), aws.endpoint_tags())

    result = deployer.handle(
        package_event(arn, group="fraud-model"), settings(deployer, aws), clients(deployer, aws)
    )

    assert result["outcome"] == "rejected"
    assert (aws.model_names(), aws.endpoint_config_names(), aws.endpoint_tags()) == before
    assert aws.deployment_events() == []
    assert aws.notifications() == []
    (line,) = log_lines(capsys)
    assert line["level"] == "ERROR"
    assert line["reason"] == "the event is for model package group fraud-model"
    assert line["model_package_arn"] == arn
    assert line["endpoint_name"] == ENDPOINT


def _malformed_events() -> list[Any]:
    good = package_event("arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-model/3")

    def changed(**detail: Any) -> dict[str, Any]:
        return {**good, "detail": {**good["detail"], **detail}}

    return [
        "not an object",
        {**good, "source": "my.app"},
        {**good, "detail-type": "SageMaker Training Job State Change"},
        {**good, "detail": None},
        changed(ModelPackageArn="arn:aws:s3:::bucket/key"),
        changed(ModelPackageVersion="3"),
        changed(ModelPackageVersion=4),
        changed(ModelApprovalStatus="Deployed"),
        changed(ModelPackageGroupName=""),
        changed(UpdatedModelPackageFields="ModelApprovalStatus"),
        {**endpoint_event(), "detail": {"EndpointStatus": "IN_SERVICE"}},
    ]


@pytest.mark.parametrize("event", _malformed_events())
def test_a_malformed_event_is_rejected_with_a_clear_log_line(
    deployer: ModuleType, aws: FakeAccount, capsys: pytest.CaptureFixture[str], event: Any
) -> None:
    serving_stack_endpoint(aws)
    before = (aws.model_names(), aws.endpoint_config_names(), aws.endpoint_tags())

    result = deployer.handle(event, settings(deployer, aws), clients(deployer, aws))

    assert result["outcome"] == "rejected"
    assert (aws.model_names(), aws.endpoint_config_names(), aws.endpoint_tags()) == before
    (line,) = log_lines(capsys)
    assert line["message"].startswith("Rejected a malformed event")
    assert line["reason"]
    assert line["endpoint_name"] == ENDPOINT


def test_a_missing_model_package_is_rejected_without_any_write(
    deployer: ModuleType, aws: FakeAccount, capsys: pytest.CaptureFixture[str]
) -> None:
    serving_stack_endpoint(aws)
    aws.register_version("Approved")
    missing = aws.register_version("Approved").replace("/2", "/9")
    before = (aws.model_names(), aws.endpoint_config_names(), aws.endpoint_tags())

    result = deployer.handle(
        package_event(missing), settings(deployer, aws), clients(deployer, aws)
    )

    assert result == {"outcome": "rejected", "reason": "the model package does not exist"}
    assert (aws.model_names(), aws.endpoint_config_names(), aws.endpoint_tags()) == before
    (line,) = log_lines(capsys)
    assert line["model_package_arn"] == missing


def test_a_metadata_edit_of_an_approved_version_does_not_redeploy(
    deployer: ModuleType, aws: FakeAccount
) -> None:
    serving_stack_endpoint(aws)
    arn = aws.register_version("Approved")

    result = deployer.handle(
        package_event(arn, fields=["CustomerMetadataProperties"]),
        settings(deployer, aws),
        clients(deployer, aws),
    )

    assert result["outcome"] == "ignored"
    assert aws.updates.requests == []
    assert aws.model_names() == ["churn-initial"]


def test_a_version_no_longer_approved_is_not_deployed(
    deployer: ModuleType, aws: FakeAccount
) -> None:
    """The event is stale: the version was rejected again before the event was handled."""
    serving_stack_endpoint(aws)
    arn = aws.register_version("Rejected")

    result = deployer.handle(package_event(arn), settings(deployer, aws), clients(deployer, aws))

    assert result["outcome"] == "ignored"
    assert aws.model_names() == ["churn-initial"]


def test_a_pending_approval_event_is_left_to_the_topic(
    deployer: ModuleType, aws: FakeAccount
) -> None:
    arn = aws.register_version()

    result = deployer.handle(
        package_event(arn, "PendingManualApproval"), settings(deployer, aws), clients(deployer, aws)
    )

    assert result["outcome"] == "ignored"
    assert aws.notifications() == []


# --- retries ----------------------------------------------------------------------------------


def test_a_busy_endpoint_raises_so_the_event_is_retried_and_nothing_is_created(
    deployer: ModuleType, aws: FakeAccount
) -> None:
    serving_stack_endpoint(aws)
    set_endpoint_state(ENDPOINT, "Updating")  # an update someone else started
    arn = aws.register_version("Approved")

    with pytest.raises(deployer.EndpointBusy, match="churn-prod is Updating"):
        deployer.handle(package_event(arn), settings(deployer, aws), clients(deployer, aws))

    assert aws.model_names() == ["churn-initial"]
    assert aws.endpoint_config_names() == ["churn-initial-config"]
    assert deployer.TAG_PENDING not in aws.endpoint_tags()


def test_a_version_still_being_created_raises_so_the_event_is_retried(
    deployer: ModuleType, aws: FakeAccount
) -> None:
    arn = aws.register_version("Approved")
    set_package_status(arn, "InProgress")

    with pytest.raises(deployer.VersionNotReady):
        deployer.handle(package_event(arn), settings(deployer, aws), clients(deployer, aws))

    assert aws.model_names() == []


def test_a_failed_model_package_is_rejected(deployer: ModuleType, aws: FakeAccount) -> None:
    arn = aws.register_version("Approved")
    set_package_status(arn, "Failed")

    result = deployer.handle(package_event(arn), settings(deployer, aws), clients(deployer, aws))

    assert result["outcome"] == "rejected"
    assert aws.model_names() == []


def test_throttling_raises_and_the_retry_completes_the_deployment(
    deployer: ModuleType, aws: FakeAccount
) -> None:
    serving_stack_endpoint(aws)
    arn = aws.register_version("Approved")
    config = settings(deployer, aws)
    fail_next(aws.sagemaker, "CreateEndpointConfig", "ThrottlingException")

    with pytest.raises(ClientError, match="ThrottlingException"):
        deployer.handle(package_event(arn), config, clients(deployer, aws))

    # The live endpoint was not touched: it serves its old configuration, untagged.
    endpoint = describe(aws)
    assert (endpoint["EndpointStatus"], endpoint["EndpointConfigName"]) == (
        "InService",
        "churn-initial-config",
    )
    assert deployer.TAG_PENDING not in aws.endpoint_tags()
    assert aws.updates.requests == []

    retry = deployer.handle(package_event(arn), config, clients(deployer, aws))

    assert retry["outcome"] == "started"
    assert aws.model_names() == sorted(["churn-initial", config.resource_name(1)])


def test_a_failed_put_events_raises(deployer: ModuleType, aws: FakeAccount) -> None:
    arn = aws.register_version("Approved")
    failing = deployer.Clients(sagemaker=aws.sagemaker, events=_FailingEvents(), sns=aws.sns)

    with pytest.raises(deployer.RetryableError, match="PutEvents failed"):
        deployer.handle(package_event(arn), settings(deployer, aws), failing)


class _FailingEvents:
    """EventBridge answering PutEvents with a failed entry (what it does when throttled)."""

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "ThrottlingException"}]}


# --- what a model update may not change -----------------------------------------------------


def test_autoscaled_instance_counts_survive_a_model_update(
    deployer: ModuleType, aws: FakeAccount
) -> None:
    serving_stack_endpoint(aws)
    set_desired_instance_count(ENDPOINT, "AllTraffic", 5)  # Application Auto Scaling scaled out
    arn = aws.register_version("Approved")

    deploy_and_complete(deployer, aws, arn)

    (variant,) = describe(aws)["ProductionVariants"]
    assert variant["DesiredInstanceCount"] == 5


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        (
            {"instance_type": "ml.c5.xlarge"},
            "would change instance type from ml.m5.large to ml.c5.xlarge",
        ),
        ({"variant": "Blue"}, "differ from the live variants"),
    ],
)
def test_an_infrastructure_change_is_refused_and_the_endpoint_is_left_alone(
    deployer: ModuleType, aws: FakeAccount, overrides: dict[str, str], reason: str
) -> None:
    serving_stack_endpoint(aws)
    arn = aws.register_version("Approved")
    config = settings(deployer, aws, spec=spec(aws.role_arn, **overrides))

    result = deployer.handle(package_event(arn), config, clients(deployer, aws))

    assert result["outcome"] == "refused"
    assert reason in result["reason"]
    assert aws.updates.requests == []
    assert aws.model_names() == ["churn-initial"]
    (failed,) = aws.deployment_events()
    assert failed["detail-type"] == "Model Deployment Failed"
    assert reason in failed["detail"]["FailureReason"]
    (notice,) = aws.notifications()
    assert reason in notice["Message"]


def test_a_failed_endpoint_is_left_to_an_operator(deployer: ModuleType, aws: FakeAccount) -> None:
    serving_stack_endpoint(aws)
    set_endpoint_state(ENDPOINT, "Failed", "capacity")
    arn = aws.register_version("Approved")

    result = deployer.handle(package_event(arn), settings(deployer, aws), clients(deployer, aws))

    assert result["outcome"] == "refused"
    assert "is Failed" in result["reason"]
    assert aws.updates.requests == []


# --- rejections -------------------------------------------------------------------------------


def test_rejecting_the_deployed_version_tells_the_approvers(
    deployer: ModuleType, aws: FakeAccount
) -> None:
    serving_stack_endpoint(aws)
    arn = aws.register_version("Approved")
    deploy_and_complete(deployer, aws, arn)
    aws.notifications()

    result = deployer.handle(
        package_event(arn, "Rejected", fields=["ModelApprovalStatus"]),
        settings(deployer, aws),
        clients(deployer, aws),
    )

    assert result == {"outcome": "notified", "reason": "the rejected version is deployed"}
    (notice,) = aws.notifications()
    assert notice["Subject"] == "Rejected churn-model v1 is deployed"
    assert arn in notice["Message"]
    assert ENDPOINT in notice["Message"]
    assert aws.endpoint_tags()[deployer.TAG_DEPLOYED] == arn  # recorded, not removed


def test_rejecting_a_version_that_is_not_deployed_is_only_recorded(
    deployer: ModuleType, aws: FakeAccount, capsys: pytest.CaptureFixture[str]
) -> None:
    serving_stack_endpoint(aws)
    arn = aws.register_version("Rejected")

    result = deployer.handle(
        package_event(arn, "Rejected"), settings(deployer, aws), clients(deployer, aws)
    )

    assert result["outcome"] == "recorded"
    assert aws.notifications() == []
    (line,) = log_lines(capsys)
    assert line["message"] == "Recorded a rejection of a version that is not deployed"


# --- endpoint events ----------------------------------------------------------------------------


def test_endpoint_events_without_a_pending_deployment_change_nothing(
    deployer: ModuleType, aws: FakeAccount
) -> None:
    config = settings(deployer, aws)
    missing = deployer.handle(endpoint_event(), config, clients(deployer, aws))
    serving_stack_endpoint(aws)
    idle = deployer.handle(endpoint_event(), config, clients(deployer, aws))
    other = deployer.handle(endpoint_event(name="fraud-prod"), config, clients(deployer, aws))

    assert [missing["outcome"], idle["outcome"], other["outcome"]] == [
        "no-deployment",
        "no-deployment",
        "rejected",
    ]
    assert aws.deployment_events() == []


# --- the handler as Lambda runs it ------------------------------------------------------------


def test_the_handler_reads_its_environment_and_logs_json_lines_naming_the_version(
    index: ModuleType,
    aws: FakeAccount,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    serving_stack_endpoint(aws)
    arn = aws.register_version("Approved")
    aws.ssm.put_parameter(Name="/flow/spec", Type="String", Value=json.dumps(spec(aws.role_arn)))
    for name, value in {
        "MODEL_PACKAGE_GROUP_NAME": GROUP,
        "ENDPOINT_NAME": ENDPOINT,
        "NAME_PREFIX": PREFIX,
        "EVENT_BUS_NAME": "default",
        "EVENT_SOURCE": EVENT_SOURCE,
        "APPROVERS_TOPIC_ARN": aws.topic_arn,
        "DEPLOYMENT_SPEC_PARAMETER": "/flow/spec",
    }.items():
        monkeypatch.setenv(name, value)

    started = index.handler(package_event(arn), None)
    aws.updates.complete()
    succeeded = index.handler(endpoint_event(), None)

    assert (started["outcome"], succeeded["outcome"]) == ("started", "succeeded")
    lines = log_lines(capsys)
    assert len(lines) >= 4
    for line in lines:
        assert line["endpoint_name"] == ENDPOINT
        assert line["model_package_arn"] == arn
        assert line["level"] in {"INFO", "WARNING", "ERROR"}
        assert line["message"]


def test_settings_come_inline_or_from_a_parameter_and_bad_ones_fail_loudly(
    deployer: ModuleType,
) -> None:
    env = {
        "MODEL_PACKAGE_GROUP_NAME": GROUP,
        "ENDPOINT_NAME": ENDPOINT,
        "NAME_PREFIX": PREFIX,
        "EVENT_BUS_NAME": "default",
        "EVENT_SOURCE": EVENT_SOURCE,
        "APPROVERS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:approvers",
        "ALLOW_ROLLBACK_BY_APPROVAL": "true",
    }
    text = json.dumps(spec("arn:aws:iam::123456789012:role/r"))
    inline = deployer.Settings.from_environment({**env, "DEPLOYMENT_SPEC": text}, _no_parameter)
    assert inline.allow_rollback is True
    assert inline.spec["EndpointName"] == ENDPOINT

    with pytest.raises(
        deployer.ConfigurationError, match="DEPLOYMENT_SPEC or DEPLOYMENT_SPEC_PARAMETER"
    ):
        deployer.Settings.from_environment(env, _no_parameter)
    with pytest.raises(deployer.ConfigurationError, match="ENDPOINT_NAME"):
        deployer.Settings.from_environment(
            {**env, "ENDPOINT_NAME": "", "DEPLOYMENT_SPEC": text}, _no_parameter
        )
    with pytest.raises(deployer.ConfigurationError, match="not JSON"):
        deployer.Settings.from_environment({**env, "DEPLOYMENT_SPEC": "{"}, _no_parameter)
    with pytest.raises(deployer.ConfigurationError, match="no DeploymentConfig"):
        deployer.Settings.from_environment(
            {**env, "DEPLOYMENT_SPEC": json.dumps({"Model": {}, "EndpointConfig": {}})},
            _no_parameter,
        )


def _no_parameter(name: str) -> str:
    raise AssertionError(f"no parameter should be read, got {name}")


def test_resource_names_are_valid_deterministic_and_follow_the_spec(deployer: ModuleType) -> None:
    base = deployer.Settings(
        group=GROUP,
        endpoint_name=ENDPOINT,
        name_prefix="a" * 40,
        spec=spec("arn:aws:iam::123456789012:role/r"),
        event_bus="default",
        event_source=EVENT_SOURCE,
        topic_arn="arn",
        allow_rollback=False,
    )
    name = base.resource_name(2_147_483_647)
    assert len(name) <= 63
    assert base.resource_name(3) == base.resource_name(3)
    changed = deployer.Settings(
        **{**base.__dict__, "spec": spec("arn:aws:iam::123456789012:role/other")}
    )
    assert changed.resource_name(3) != base.resource_name(3)


def test_an_event_naming_our_group_for_another_groups_version_is_rejected(
    deployer: ModuleType, aws: FakeAccount
) -> None:
    serving_stack_endpoint(aws)
    foreign = aws.register_version("Approved", group="fraud-model")

    result = deployer.handle(
        package_event(foreign), settings(deployer, aws), clients(deployer, aws)
    )

    assert result == {"outcome": "rejected", "reason": "the model package belongs to another group"}
    assert aws.model_names() == ["churn-initial"]


def test_an_aws_error_other_than_not_found_is_raised_for_a_retry(
    deployer: ModuleType, aws: FakeAccount
) -> None:
    arn = aws.register_version("Approved")
    fail_next(aws.sagemaker, "DescribeEndpoint", "AccessDeniedException")

    with pytest.raises(ClientError, match="AccessDeniedException"):
        deployer.handle(package_event(arn), settings(deployer, aws), clients(deployer, aws))

    assert aws.model_names() == []
