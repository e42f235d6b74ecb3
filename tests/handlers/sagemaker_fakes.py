"""An AWS account in moto for handler tests, plus the one SageMaker call moto lacks.

moto 5.2 implements model package groups and versions, models, endpoint configurations,
CreateEndpoint, DescribeEndpoint and tags, but not ``UpdateEndpoint``. :class:`EndpointUpdates`
emulates that single call with a botocore ``before-call.sagemaker.UpdateEndpoint`` hook on
moto's own endpoint records, the way SageMaker behaves:

- the endpoint must be ``InService`` and the new configuration must exist (else a
  ``ValidationException``, as SageMaker answers);
- the endpoint goes to ``Updating`` and keeps serving its old configuration;
- the test then ends the update with :meth:`EndpointUpdates.complete` (``InService`` on the
  new configuration; with ``RetainAllVariantProperties`` the desired instance counts are
  kept, as Application Auto Scaling left them) or :meth:`EndpointUpdates.roll_back`
  (``InService`` on the old configuration with a ``FailureReason``, which is what an
  auto-rollback of a blue/green deployment leaves).

:func:`fail_next` makes the next calls of an operation fail with an AWS error code
(``ThrottlingException``) through the same kind of hook, before the request reaches moto.
Nothing here replaces code of the library: it stands in for AWS.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import boto3
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from moto.sagemaker.models import sagemaker_backends

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
GROUP = "churn-model"
ENDPOINT = "churn-prod"
EVENT_SOURCE = "sagemaker-lifecycle.model-deployment"
INSTANCE_TYPE = "ml.m5.large"


def _response(status: int, parsed: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    parsed.setdefault("ResponseMetadata", {"HTTPStatusCode": status, "RequestId": "emulated"})
    return AWSResponse("https://sagemaker.emulated", status, {}, None), parsed  # type: ignore[arg-type]


def _error(code: str, message: str) -> tuple[AWSResponse, dict[str, Any]]:
    return _response(400, {"Error": {"Code": code, "Message": message}})


@dataclass
class EndpointUpdates:
    """The emulated ``UpdateEndpoint``: requests made, and updates still in flight."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    _in_flight: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def _backend(self) -> Any:
        return sagemaker_backends[ACCOUNT][REGION]

    def hook(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        request = json.loads(params["body"])
        self.requests.append(request)
        endpoint = self._backend.endpoints.get(request["EndpointName"])
        if endpoint is None:
            return _error(
                "ValidationException", f"Could not find endpoint {request['EndpointName']}"
            )
        if endpoint.endpoint_status != "InService":
            return _error(
                "ValidationException",
                f"Cannot update in-progress endpoint {endpoint.endpoint_name} "
                f"({endpoint.endpoint_status})",
            )
        if request["EndpointConfigName"] not in self._backend.endpoint_configs:
            return _error(
                "ValidationException",
                f"Could not find endpoint configuration {request['EndpointConfigName']}",
            )
        endpoint.endpoint_status = "Updating"
        self._in_flight[endpoint.endpoint_name] = request
        return _response(200, {"EndpointArn": endpoint.arn})

    def complete(self, endpoint_name: str = ENDPOINT) -> None:
        """The blue/green deployment finished: the endpoint serves the new configuration."""
        request = self._in_flight.pop(endpoint_name)
        endpoint = self._backend.endpoints[endpoint_name]
        config = self._backend.endpoint_configs[request["EndpointConfigName"]]
        retained = {
            v["VariantName"]: v.get("DesiredInstanceCount") for v in endpoint.production_variants
        }
        keep_counts = request.get("RetainAllVariantProperties") and {
            "VariantPropertyType": "DesiredInstanceCount"
        } not in request.get("ExcludeRetainedVariantProperties", [])
        variants = endpoint._process_production_variants(config.production_variants)
        for variant in variants:
            if keep_counts and retained.get(variant["VariantName"]) is not None:
                variant["DesiredInstanceCount"] = retained[variant["VariantName"]]
                variant["CurrentInstanceCount"] = retained[variant["VariantName"]]
        endpoint.production_variants = variants
        endpoint.endpoint_config_name = request["EndpointConfigName"]
        endpoint.endpoint_status = "InService"
        endpoint.failure_reason = None

    def roll_back(self, reason: str, endpoint_name: str = ENDPOINT) -> None:
        """An auto-rollback alarm fired: the endpoint is back on its previous configuration."""
        self._in_flight.pop(endpoint_name)
        endpoint = self._backend.endpoints[endpoint_name]
        endpoint.endpoint_status = "InService"
        endpoint.failure_reason = cast(Any, reason)


def fail_next(client: Any, operation: str, code: str, times: int = 1) -> None:
    """Make the next ``times`` calls of ``operation`` on ``client`` fail with ``code``."""
    remaining = [times]

    def hook(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if remaining[0] <= 0:
            return None
        remaining[0] -= 1
        return _error(code, f"Emulated {code} for {operation}")

    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register(f"before-call.{service}.{operation}", hook)


def set_endpoint_state(name: str, status: str, failure_reason: str | None = None) -> None:
    """Put an endpoint in a state moto never reaches by itself (Updating by someone else)."""
    endpoint = sagemaker_backends[ACCOUNT][REGION].endpoints[name]
    endpoint.endpoint_status = status
    endpoint.failure_reason = cast(Any, failure_reason)


def set_desired_instance_count(name: str, variant: str, count: int) -> None:
    """What Application Auto Scaling does to a variant's instance count."""
    endpoint = sagemaker_backends[ACCOUNT][REGION].endpoints[name]
    for summary in endpoint.production_variants:
        if summary["VariantName"] == variant:
            summary["DesiredInstanceCount"] = summary["CurrentInstanceCount"] = count


def set_package_status(arn: str, status: str) -> None:
    """A version still being created (SageMaker reports Pending or InProgress)."""
    for package in sagemaker_backends[ACCOUNT][REGION].model_packages.values():
        if package.arn == arn:
            package.model_package_status = status
            return
    raise KeyError(arn)


@dataclass
class FakeAccount:
    """Clients on moto, the model execution role, and queues that collect what was sent."""

    sagemaker: Any
    events: Any
    sns: Any
    sqs: Any
    ssm: Any
    updates: EndpointUpdates
    role_arn: str
    topic_arn: str
    events_queue: str
    notifications_queue: str

    def register_version(self, approval: str = "PendingManualApproval", group: str = GROUP) -> str:
        """Register a version in ``group`` (created if needed); return its ARN."""
        groups = self.sagemaker.list_model_package_groups()["ModelPackageGroupSummaryList"]
        if group not in {g["ModelPackageGroupName"] for g in groups}:
            self.sagemaker.create_model_package_group(ModelPackageGroupName=group)
        arn: str = self.sagemaker.create_model_package(
            ModelPackageGroupName=group,
            ModelApprovalStatus=approval,
            InferenceSpecification={
                "Containers": [
                    {
                        "Image": f"683313688378.dkr.ecr.{REGION}.amazonaws.com/xgboost:1.7-1",
                        "ModelDataUrl": f"s3://artifacts/{group}/model.tar.gz",
                    }
                ],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            ModelMetrics={
                "ModelQuality": {
                    "Statistics": {
                        "ContentType": "application/json",
                        "S3Uri": f"s3://artifacts/{group}/evaluation.json",
                    }
                }
            },
        )["ModelPackageArn"]
        return arn

    def approve(self, arn: str) -> None:
        self.sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")

    def endpoint_tags(self, name: str = ENDPOINT) -> dict[str, str]:
        arn = self.sagemaker.describe_endpoint(EndpointName=name)["EndpointArn"]
        tags = self.sagemaker.list_tags(ResourceArn=arn)["Tags"]
        return {t["Key"]: t["Value"] for t in tags}

    def model_names(self) -> list[str]:
        return sorted(m["ModelName"] for m in self.sagemaker.list_models()["Models"])

    def endpoint_config_names(self) -> list[str]:
        configs = self.sagemaker.list_endpoint_configs()["EndpointConfigs"]
        return sorted(c["EndpointConfigName"] for c in configs)

    def deployment_events(self) -> list[dict[str, Any]]:
        """The custom events the function put on the bus (drains the queue)."""
        return [json.loads(body) for body in self._drain(self.events_queue)]

    def notifications(self) -> list[dict[str, Any]]:
        """The messages published to the approvers topic (drains the queue)."""
        return [json.loads(body) for body in self._drain(self.notifications_queue)]

    def _drain(self, queue_url: str) -> list[str]:
        bodies: list[str] = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return bodies
            for message in messages:
                bodies.append(message["Body"])
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


# One botocore session for every test: loading the SageMaker service model is what makes a
# client slow to create, and the session keeps it. moto's state is still fresh per test.
_BOTOCORE = botocore.session.Session()
_CURRENT: list[EndpointUpdates] = []


def _update_endpoint(**kwargs: Any) -> tuple[AWSResponse, dict[str, Any]]:
    return _CURRENT[-1].hook(**kwargs)


_BOTOCORE.register("before-call.sagemaker.UpdateEndpoint", cast(Any, _update_endpoint))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAccount]:
    """A fresh moto account with the UpdateEndpoint emulation on every SageMaker client."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        updates = EndpointUpdates()
        _CURRENT.append(updates)
        # Clients the handler creates itself come from the default session.
        session = boto3.Session(region_name=REGION, botocore_session=_BOTOCORE)
        boto3.DEFAULT_SESSION = session
        sqs = session.client("sqs")
        events = session.client("events")
        sns = session.client("sns")
        events_queue = _queue(sqs, "deployment-events")
        events.put_rule(Name="capture", EventPattern=json.dumps({"source": [EVENT_SOURCE]}))
        events.put_targets(
            Rule="capture", Targets=[{"Id": "q", "Arn": _queue_arn(sqs, events_queue)}]
        )
        topic_arn = sns.create_topic(Name="approvers")["TopicArn"]
        notifications_queue = _queue(sqs, "notifications")
        sns.subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=_queue_arn(sqs, notifications_queue),
            Attributes={"RawMessageDelivery": "false"},
        )
        role_arn = session.client("iam").create_role(
            RoleName="model-execution",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "sagemaker.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )["Role"]["Arn"]
        yield FakeAccount(
            sagemaker=session.client("sagemaker"),
            events=events,
            sns=sns,
            sqs=sqs,
            ssm=session.client("ssm"),
            updates=updates,
            role_arn=role_arn,
            topic_arn=topic_arn,
            events_queue=events_queue,
            notifications_queue=notifications_queue,
        )
        boto3.DEFAULT_SESSION = None
        _CURRENT.pop()


def _queue(sqs: Any, name: str) -> str:
    url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url


def _queue_arn(sqs: Any, url: str) -> str:
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return arn
