"""Deploys approved model package versions to one SageMaker endpoint and checks the outcome.

Every function takes its boto3 clients as arguments. The endpoint's tags hold the state:

- ``sagemaker-lifecycle:model-package-arn``: the version the endpoint serves, set only once
  SageMaker reports the endpoint ``InService`` on the configuration this function deployed;
- ``sagemaker-lifecycle:pending-model-package-arn`` and ``...:pending-endpoint-config``: a
  deployment that was started and whose outcome is not yet known.

The outcome is read when SageMaker sends "SageMaker Endpoint State Change" for the endpoint
(or, if that event was lost, before the next deployment): ``InService`` on the deployed
configuration is a success; anything else (a rollback leaves the endpoint ``InService`` on
its previous configuration with a ``FailureReason``) is a failed deployment.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import ClientError

APPROVED = "Approved"
REJECTED = "Rejected"
PENDING = "PendingManualApproval"
PACKAGE_STATE_CHANGE = "SageMaker Model Package State Change"
ENDPOINT_STATE_CHANGE = "SageMaker Endpoint State Change"

DEPLOYMENT_STARTED = "Model Deployment Started"
DEPLOYMENT_SUCCEEDED = "Model Deployment Succeeded"
DEPLOYMENT_FAILED = "Model Deployment Failed"

TAG_DEPLOYED = "sagemaker-lifecycle:model-package-arn"
TAG_PENDING = "sagemaker-lifecycle:pending-model-package-arn"
TAG_PENDING_CONFIG = "sagemaker-lifecycle:pending-endpoint-config"
TAG_MANAGED_BY = "sagemaker-lifecycle:managed-by"
MANAGED_BY = "model-approval-flow"

#: Endpoint states in which SageMaker accepts no update; the event is retried later.
BUSY = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"})
IN_SERVICE = "InService"
#: Package states in which a version may still become deployable.
NOT_READY = frozenset({"Pending", "InProgress"})

_PACKAGE_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/[^/]+/(\d+)$")
_MAX_SUBJECT = 100
# Keep only the instance counts SageMaker (or Application Auto Scaling) set; weights and
# data capture come from the new configuration.
_RETAIN_INSTANCE_COUNTS_ONLY = [
    {"VariantPropertyType": "DesiredWeight"},
    {"VariantPropertyType": "DataCaptureConfig"},
]


class RetryableError(Exception):
    """Raised so that Lambda retries the event, and finally sends it to the dead-letter queue."""


class EndpointBusy(RetryableError):
    """The endpoint is being created or updated and accepts no other update now."""


class VersionNotReady(RetryableError):
    """The model package is still being created."""


class MalformedEventError(ValueError):
    """The event is not one this function handles; the message says why."""


class ConfigurationError(RuntimeError):
    """The function's environment is wrong: a deployment problem, not an event problem."""


@dataclass(frozen=True)
class Settings:
    """What the construct configured: the group, the endpoint and how to build its versions."""

    group: str
    endpoint_name: str
    name_prefix: str
    spec: Mapping[str, Any]
    event_bus: str
    event_source: str
    topic_arn: str
    allow_rollback: bool

    @classmethod
    def from_environment(
        cls, env: Mapping[str, str], load_parameter: Callable[[str], str]
    ) -> Settings:
        """Read the settings; the spec comes inline or from an SSM parameter."""
        missing = [
            name
            for name in (
                "MODEL_PACKAGE_GROUP_NAME",
                "ENDPOINT_NAME",
                "NAME_PREFIX",
                "EVENT_BUS_NAME",
                "EVENT_SOURCE",
                "APPROVERS_TOPIC_ARN",
            )
            if not env.get(name)
        ]
        if not env.get("DEPLOYMENT_SPEC") and not env.get("DEPLOYMENT_SPEC_PARAMETER"):
            missing.append("DEPLOYMENT_SPEC or DEPLOYMENT_SPEC_PARAMETER")
        if missing:
            raise ConfigurationError(f"environment variables missing: {', '.join(missing)}")
        text = env.get("DEPLOYMENT_SPEC") or load_parameter(env["DEPLOYMENT_SPEC_PARAMETER"])
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigurationError(f"the deployment spec is not JSON: {error}") from error
        for key in ("Model", "EndpointConfig", "DeploymentConfig"):
            if not isinstance(spec, dict) or not isinstance(spec.get(key), dict):
                raise ConfigurationError(f"the deployment spec has no {key} object")
        return cls(
            group=env["MODEL_PACKAGE_GROUP_NAME"],
            endpoint_name=env["ENDPOINT_NAME"],
            name_prefix=env["NAME_PREFIX"],
            spec=spec,
            event_bus=env["EVENT_BUS_NAME"],
            event_source=env["EVENT_SOURCE"],
            topic_arn=env["APPROVERS_TOPIC_ARN"],
            allow_rollback=env.get("ALLOW_ROLLBACK_BY_APPROVAL", "false").lower() == "true",
        )

    def resource_name(self, version: int) -> str:
        """The model's and endpoint configuration's name for ``version``.

        Deterministic, so a repeated event finds what the first one created; the digest of
        the endpoint and the spec gives a new name when the serving stack changes the spec.
        """
        canonical = json.dumps(
            {"endpoint": self.endpoint_name, "spec": self.spec},
            sort_keys=True,
            separators=(",", ":"),
        )
        digest = hashlib.sha256(canonical.encode()).hexdigest()[:8]
        return f"{self.name_prefix}-v{version}-{digest}"


@dataclass(frozen=True)
class Clients:
    """The boto3 clients the function calls."""

    sagemaker: Any
    events: Any
    sns: Any


@dataclass(frozen=True)
class PackageEvent:
    """A "SageMaker Model Package State Change" event, validated."""

    group: str
    version: int
    arn: str
    status: str
    updated_fields: tuple[str, ...] | None


@dataclass(frozen=True)
class EndpointEvent:
    """A "SageMaker Endpoint State Change" event, validated."""

    endpoint_name: str


@dataclass(frozen=True)
class Log:
    """Structured JSON log lines, each naming the endpoint and the model package."""

    endpoint_name: str
    model_package_arn: str | None = None
    event_id: str | None = None

    def bind(self, model_package_arn: str | None) -> Log:
        return replace(self, model_package_arn=model_package_arn)

    def info(self, message: str, **fields: Any) -> None:
        self._write("INFO", message, fields)

    def warning(self, message: str, **fields: Any) -> None:
        self._write("WARNING", message, fields)

    def error(self, message: str, **fields: Any) -> None:
        self._write("ERROR", message, fields)

    def _write(self, level: str, message: str, fields: Mapping[str, Any]) -> None:
        record = {
            "level": level,
            "message": message,
            "endpoint_name": self.endpoint_name,
            "model_package_arn": self.model_package_arn,
            "event_id": self.event_id,
            **fields,
        }
        # One JSON document per line on stdout: CloudWatch Logs Insights parses it whatever
        # the function's log format.
        print(json.dumps(record, default=str, sort_keys=True), flush=True)


def parse_event(event: Any) -> PackageEvent | EndpointEvent:
    """Validate ``event`` into the dataclass for its detail-type."""
    if not isinstance(event, Mapping):
        raise MalformedEventError("the event is not a JSON object")
    detail = event.get("detail")
    if event.get("source") != "aws.sagemaker" or not isinstance(detail, Mapping):
        raise MalformedEventError("the event is not a SageMaker event with a detail object")
    detail_type = event.get("detail-type")
    if detail_type == ENDPOINT_STATE_CHANGE:
        name = detail.get("EndpointName")
        if not isinstance(name, str) or not name:
            raise MalformedEventError("the endpoint event has no EndpointName")
        return EndpointEvent(endpoint_name=name)
    if detail_type != PACKAGE_STATE_CHANGE:
        raise MalformedEventError(f"detail-type {detail_type!r} is not handled")
    group, arn = detail.get("ModelPackageGroupName"), detail.get("ModelPackageArn")
    version, status = detail.get("ModelPackageVersion"), detail.get("ModelApprovalStatus")
    if not isinstance(group, str) or not group:
        raise MalformedEventError("the event has no ModelPackageGroupName")
    match = _PACKAGE_ARN.match(arn) if isinstance(arn, str) else None
    if match is None:
        raise MalformedEventError(f"ModelPackageArn {arn!r} is not a model package version ARN")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise MalformedEventError(f"ModelPackageVersion {version!r} is not a positive integer")
    if int(match.group(1)) != version:
        raise MalformedEventError(f"ModelPackageArn {arn} does not name version {version}")
    if status not in (APPROVED, REJECTED, PENDING):
        raise MalformedEventError(f"ModelApprovalStatus {status!r} is not an approval status")
    fields = detail.get("UpdatedModelPackageFields")
    if fields is not None and not (
        isinstance(fields, list) and all(isinstance(f, str) for f in fields)
    ):
        raise MalformedEventError("UpdatedModelPackageFields is not a list of field names")
    return PackageEvent(
        group=group,
        version=version,
        arn=match.group(0),
        status=status,
        updated_fields=None if fields is None else tuple(fields),
    )


def handle(event: Any, settings: Settings, clients: Clients) -> dict[str, Any]:
    """Handle one event; return what was decided. Raises :class:`RetryableError` to retry."""
    event_id = event.get("id") if isinstance(event, Mapping) else None
    log = Log(settings.endpoint_name, event_id=event_id if isinstance(event_id, str) else None)
    try:
        parsed = parse_event(event)
    except MalformedEventError as error:
        log.error("Rejected a malformed event; nothing was changed", reason=str(error))
        return _outcome("rejected", str(error))
    if isinstance(parsed, EndpointEvent):
        if parsed.endpoint_name.casefold() != settings.endpoint_name.casefold():
            reason = f"the event is for endpoint {parsed.endpoint_name}"
            log.error("Rejected an event for another endpoint; nothing was changed", reason=reason)
            return _outcome("rejected", reason)
        return check_outcome(settings, clients, log)
    return _handle_package_event(parsed, settings, clients, log.bind(parsed.arn))


def _handle_package_event(
    parsed: PackageEvent, settings: Settings, clients: Clients, log: Log
) -> dict[str, Any]:
    if parsed.group.casefold() != settings.group.casefold():
        reason = f"the event is for model package group {parsed.group}"
        log.error("Rejected an event for another group; nothing was changed", reason=reason)
        return _outcome("rejected", reason)
    if parsed.updated_fields is not None and "ModelApprovalStatus" not in parsed.updated_fields:
        reason = "the approval status did not change"
        log.info("Ignored a metadata change", reason=reason, fields=list(parsed.updated_fields))
        return _outcome("ignored", reason)
    if parsed.status == APPROVED:
        return deploy(parsed, settings, clients, log)
    if parsed.status == REJECTED:
        return record_rejection(parsed, settings, clients, log)
    log.info("Ignored a pending approval: approvers are notified by the topic")
    return _outcome("ignored", "pending approval")


def deploy(
    package_event: PackageEvent, settings: Settings, clients: Clients, log: Log
) -> dict[str, Any]:
    """Deploy an approved version, unless it is deployed, older, or the endpoint is busy."""
    unusable = _unusable_package(package_event, settings, clients, log)
    if unusable is not None:
        return unusable
    name = settings.resource_name(package_event.version)
    endpoint = _describe_endpoint(clients.sagemaker, settings.endpoint_name)
    if endpoint is None:
        return _create_endpoint(package_event, settings, clients, log, name)
    return _update_endpoint(package_event, settings, clients, log, endpoint)


def _unusable_package(
    package_event: PackageEvent, settings: Settings, clients: Clients, log: Log
) -> dict[str, Any] | None:
    """Why the version cannot be deployed (an outcome), or None; raises while it is created."""
    package = _describe_package(clients.sagemaker, package_event.arn)
    if package is None:
        log.error("Rejected: the model package does not exist; nothing was changed")
        return _outcome("rejected", "the model package does not exist")
    if str(package.get("ModelPackageGroupName", "")).casefold() != settings.group.casefold():
        log.error(
            "Rejected: the model package belongs to another group; nothing was changed",
            group=package.get("ModelPackageGroupName"),
        )
        return _outcome("rejected", "the model package belongs to another group")
    if package.get("ModelApprovalStatus") != APPROVED:
        log.info(
            "Ignored: the version is no longer approved",
            approval_status=package.get("ModelApprovalStatus"),
        )
        return _outcome("ignored", "the version is no longer approved")
    package_status = package.get("ModelPackageStatus")
    if package_status in NOT_READY:
        log.warning("The model package is not complete yet; retrying", status=package_status)
        raise VersionNotReady(f"{package_event.arn} is {package_status}")
    if package_status != "Completed":
        log.error("Rejected: the model package cannot be deployed", status=package_status)
        return _outcome("rejected", f"the model package is {package_status}")
    return None


def _update_endpoint(  # noqa: PLR0911 - one return per decision, in the order they are made
    package_event: PackageEvent,
    settings: Settings,
    clients: Clients,
    log: Log,
    endpoint: dict[str, Any],
) -> dict[str, Any]:
    name = settings.resource_name(package_event.version)
    tags = _tags(clients.sagemaker, endpoint["EndpointArn"])
    status = endpoint["EndpointStatus"]
    if status in BUSY:
        if tags.get(TAG_PENDING) == package_event.arn:
            log.info("The deployment of this version is already in progress", status=status)
            return _outcome("in-progress", f"the endpoint is {status} with this version")
        log.warning("The endpoint is busy; raising so that the event is retried", status=status)
        raise EndpointBusy(f"endpoint {settings.endpoint_name} is {status}")
    if TAG_PENDING in tags:
        check_outcome(settings, clients, log.bind(tags[TAG_PENDING]))
        endpoint = _describe_endpoint(clients.sagemaker, settings.endpoint_name) or endpoint
        tags = _tags(clients.sagemaker, endpoint["EndpointArn"])

    deployed = tags.get(TAG_DEPLOYED)
    if deployed == package_event.arn:
        log.info("This version is already deployed; nothing to do")
        return _outcome("already-deployed", "the endpoint serves this version")
    if endpoint["EndpointConfigName"] == name:
        # The update went through but was never recorded (the function stopped after it).
        _record_success(package_event.arn, endpoint, settings, clients, log)
        return _outcome("already-deployed", "the endpoint already runs this version's config")
    if endpoint["EndpointStatus"] != IN_SERVICE:
        return _refuse(
            package_event,
            settings,
            clients,
            log,
            f"endpoint {settings.endpoint_name} is {endpoint['EndpointStatus']} and needs an "
            "operator before it can be updated",
        )
    deployed_version = _version_of(deployed)
    if deployed_version is not None and deployed_version > package_event.version:
        if not settings.allow_rollback:
            reason = (
                f"version {package_event.version} is older than the deployed version "
                f"{deployed_version}, and the flow does not allow rollbacks by approval"
            )
            log.warning("Skipped an older version", reason=reason, deployed=deployed)
            _notify(
                clients,
                settings,
                f"Not deploying {settings.group} v{package_event.version}",
                f"{reason}.\n\nModel package: {package_event.arn}\n"
                f"Endpoint: {settings.endpoint_name}\nDeployed: {deployed}",
            )
            return _outcome("skipped", reason)
        log.warning("Rolling back by approval to an older version", deployed=deployed)

    live = clients.sagemaker.describe_endpoint_config(
        EndpointConfigName=endpoint["EndpointConfigName"]
    )
    problem = _incompatible_update(live, settings.spec)
    if problem is not None:
        return _refuse(package_event, settings, clients, log, problem)

    _ensure_model(clients.sagemaker, settings, name, package_event.arn, log)
    _ensure_endpoint_config(clients.sagemaker, settings, name, package_event.arn, log)
    clients.sagemaker.update_endpoint(
        EndpointName=settings.endpoint_name,
        EndpointConfigName=name,
        DeploymentConfig=settings.spec["DeploymentConfig"],
        # Application Auto Scaling may have changed the instance counts; a model update must
        # not reset them ("Update endpoints that use auto scaling", SageMaker Developer Guide).
        RetainAllVariantProperties=True,
        ExcludeRetainedVariantProperties=_RETAIN_INSTANCE_COUNTS_ONLY,
    )
    clients.sagemaker.add_tags(
        ResourceArn=endpoint["EndpointArn"],
        Tags=[
            {"Key": TAG_PENDING, "Value": package_event.arn},
            {"Key": TAG_PENDING_CONFIG, "Value": name},
        ],
    )
    log.info("Started a blue/green update of the endpoint", endpoint_config=name)
    _put_event(clients, settings, DEPLOYMENT_STARTED, package_event.arn, endpoint_config=name)
    return _outcome("started", f"updating the endpoint to {name}", endpoint_config=name)


def check_outcome(settings: Settings, clients: Clients, log: Log) -> dict[str, Any]:
    """Settle a started deployment once the endpoint has left Creating or Updating."""
    endpoint = _describe_endpoint(clients.sagemaker, settings.endpoint_name)
    if endpoint is None:
        log.warning("The endpoint does not exist; no deployment to check")
        return _outcome("no-deployment", "the endpoint does not exist")
    tags = _tags(clients.sagemaker, endpoint["EndpointArn"])
    pending, pending_config = tags.get(TAG_PENDING), tags.get(TAG_PENDING_CONFIG)
    log = log.bind(pending or tags.get(TAG_DEPLOYED))
    if pending is None or pending_config is None:
        log.info("No deployment is waiting for its outcome", status=endpoint["EndpointStatus"])
        return _outcome("no-deployment", "no deployment is pending")
    status = endpoint["EndpointStatus"]
    if status in BUSY:
        log.info("The deployment is still in progress", status=status)
        return _outcome("in-progress", f"the endpoint is {status}")
    if status == IN_SERVICE and endpoint["EndpointConfigName"] == pending_config:
        _record_success(pending, endpoint, settings, clients, log)
        return _outcome("succeeded", f"the endpoint serves {pending_config}")
    reason = endpoint.get("FailureReason") or (
        f"the endpoint is {status} on {endpoint['EndpointConfigName']}, not on {pending_config}"
    )
    clients.sagemaker.delete_tags(
        ResourceArn=endpoint["EndpointArn"], TagKeys=[TAG_PENDING, TAG_PENDING_CONFIG]
    )
    log.error(
        "The deployment failed; the endpoint serves its previous configuration",
        failure_reason=reason,
        endpoint_config=endpoint["EndpointConfigName"],
        status=status,
    )
    _put_event(
        clients,
        settings,
        DEPLOYMENT_FAILED,
        pending,
        endpoint_config=pending_config,
        failure_reason=reason,
    )
    _notify(
        clients,
        settings,
        f"Deployment to {settings.endpoint_name} failed",
        f"The deployment of {pending} to endpoint {settings.endpoint_name} failed: {reason}\n\n"
        f"The endpoint is {status} on configuration {endpoint['EndpointConfigName']}.",
    )
    return _outcome("failed", reason)


def record_rejection(
    package_event: PackageEvent, settings: Settings, clients: Clients, log: Log
) -> dict[str, Any]:
    """Log a rejection, and tell the approvers when the rejected version is live."""
    endpoint = _describe_endpoint(clients.sagemaker, settings.endpoint_name)
    tags = _tags(clients.sagemaker, endpoint["EndpointArn"]) if endpoint else {}
    where = [
        label
        for label, key in (("deployed", TAG_DEPLOYED), ("being deployed", TAG_PENDING))
        if tags.get(key) == package_event.arn
    ]
    if not where:
        log.info("Recorded a rejection of a version that is not deployed")
        return _outcome("recorded", "the rejected version is not deployed")
    state = " and ".join(where)
    log.warning("A rejected version is live on the endpoint", state=state)
    _notify(
        clients,
        settings,
        f"Rejected {settings.group} v{package_event.version} is {state}",
        f"Version {package_event.version} of {settings.group} was rejected, but it is {state} "
        f"on endpoint {settings.endpoint_name}.\n\nModel package: {package_event.arn}\n"
        "Approve another version to replace it; the flow does not remove a live model.",
    )
    return _outcome("notified", f"the rejected version is {state}")


def _create_endpoint(
    package_event: PackageEvent, settings: Settings, clients: Clients, log: Log, name: str
) -> dict[str, Any]:
    _ensure_model(clients.sagemaker, settings, name, package_event.arn, log)
    _ensure_endpoint_config(clients.sagemaker, settings, name, package_event.arn, log)
    clients.sagemaker.create_endpoint(
        EndpointName=settings.endpoint_name,
        EndpointConfigName=name,
        Tags=[
            {"Key": TAG_PENDING, "Value": package_event.arn},
            {"Key": TAG_PENDING_CONFIG, "Value": name},
            {"Key": TAG_MANAGED_BY, "Value": MANAGED_BY},
        ],
    )
    log.info("Started creating the endpoint", endpoint_config=name)
    _put_event(clients, settings, DEPLOYMENT_STARTED, package_event.arn, endpoint_config=name)
    return _outcome("started", f"creating the endpoint with {name}", endpoint_config=name)


def _record_success(
    arn: str, endpoint: Mapping[str, Any], settings: Settings, clients: Clients, log: Log
) -> None:
    config = endpoint["EndpointConfigName"]
    clients.sagemaker.add_tags(
        ResourceArn=endpoint["EndpointArn"], Tags=[{"Key": TAG_DEPLOYED, "Value": arn}]
    )
    clients.sagemaker.delete_tags(
        ResourceArn=endpoint["EndpointArn"], TagKeys=[TAG_PENDING, TAG_PENDING_CONFIG]
    )
    log.bind(arn).info("The deployment succeeded", endpoint_config=config)
    _put_event(clients, settings, DEPLOYMENT_SUCCEEDED, arn, endpoint_config=config)


def _refuse(
    package_event: PackageEvent, settings: Settings, clients: Clients, log: Log, reason: str
) -> dict[str, Any]:
    log.error("Refused to deploy; the endpoint was not changed", reason=reason)
    _put_event(
        clients,
        settings,
        DEPLOYMENT_FAILED,
        package_event.arn,
        endpoint_config=None,
        failure_reason=reason,
    )
    _notify(
        clients,
        settings,
        f"Not deploying {settings.group} v{package_event.version}",
        f"{reason}.\n\nModel package: {package_event.arn}\nEndpoint: {settings.endpoint_name}",
    )
    return _outcome("refused", reason)


def _incompatible_update(live: Mapping[str, Any], spec: Mapping[str, Any]) -> str | None:
    """Why the spec cannot be deployed onto the live configuration by a model update, if so.

    A blue/green update keeps the variant names (Deployment guardrails, "Exclusions"), and
    SageMaker refuses to change the instance type of (or remove) a variant registered with
    Application Auto Scaling. Either is an infrastructure change, which belongs to the stack
    that owns the endpoint, not to an approval.
    """
    live_variants = {v["VariantName"]: v for v in live.get("ProductionVariants", [])}
    new_variants = {v["VariantName"]: v for v in spec["EndpointConfig"]["ProductionVariants"]}
    if set(live_variants) != set(new_variants):
        return (
            f"the spec's variants {sorted(new_variants)} differ from the live variants "
            f"{sorted(live_variants)}; deploy the serving stack first"
        )
    for name, variant in sorted(new_variants.items()):
        before, after = live_variants[name].get("InstanceType"), variant.get("InstanceType")
        if before != after:
            return (
                f"variant {name} would change instance type from {before} to {after}; "
                "deploy the serving stack first"
            )
    return None


def _ensure_model(sagemaker: Any, settings: Settings, name: str, arn: str, log: Log) -> None:
    if _exists(lambda: sagemaker.describe_model(ModelName=name)):
        log.info("The model already exists; reusing it", model_name=name)
        return
    sagemaker.create_model(
        ModelName=name,
        PrimaryContainer={"ModelPackageName": arn},
        Tags=_resource_tags(arn),
        **settings.spec["Model"],
    )
    log.info("Created the model", model_name=name)


def _ensure_endpoint_config(
    sagemaker: Any, settings: Settings, name: str, arn: str, log: Log
) -> None:
    if _exists(lambda: sagemaker.describe_endpoint_config(EndpointConfigName=name)):
        log.info("The endpoint configuration already exists; reusing it", endpoint_config=name)
        return
    config = dict(settings.spec["EndpointConfig"])
    config["ProductionVariants"] = [
        {**variant, "ModelName": name} for variant in config["ProductionVariants"]
    ]
    sagemaker.create_endpoint_config(EndpointConfigName=name, Tags=_resource_tags(arn), **config)
    log.info("Created the endpoint configuration", endpoint_config=name)


def _describe_package(sagemaker: Any, arn: str) -> dict[str, Any] | None:
    try:
        package: dict[str, Any] = sagemaker.describe_model_package(ModelPackageName=arn)
    except ClientError as error:
        if _is_not_found(error):
            return None
        raise
    return package


def _describe_endpoint(sagemaker: Any, name: str) -> dict[str, Any] | None:
    try:
        endpoint: dict[str, Any] = sagemaker.describe_endpoint(EndpointName=name)
    except ClientError as error:
        if _is_not_found(error):
            return None
        raise
    return endpoint


def _exists(describe: Callable[[], Any]) -> bool:
    try:
        describe()
    except ClientError as error:
        if _is_not_found(error):
            return False
        raise
    return True


def _is_not_found(error: ClientError) -> bool:
    # SageMaker answers a missing model, endpoint or package with a ValidationException
    # ("Could not find ...", "... does not exist", "... not found").
    code = error.response.get("Error", {}).get("Code", "")
    message = str(error.response.get("Error", {}).get("Message", "")).lower()
    return code == "ResourceNotFound" or (
        code == "ValidationException"
        and any(text in message for text in ("could not find", "does not exist", "not found"))
    )


def _tags(sagemaker: Any, arn: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for page in sagemaker.get_paginator("list_tags").paginate(ResourceArn=arn):
        tags.update({tag["Key"]: tag["Value"] for tag in page.get("Tags", [])})
    return tags


def _resource_tags(arn: str) -> list[dict[str, str]]:
    return [
        {"Key": "sagemaker-lifecycle:model-package-arn", "Value": arn},
        {"Key": TAG_MANAGED_BY, "Value": MANAGED_BY},
    ]


def _version_of(arn: str | None) -> int | None:
    match = _PACKAGE_ARN.match(arn) if arn else None
    return int(match.group(1)) if match else None


def _put_event(
    clients: Clients,
    settings: Settings,
    detail_type: str,
    arn: str,
    *,
    endpoint_config: str | None,
    failure_reason: str | None = None,
) -> None:
    detail = {
        "ModelPackageGroupName": settings.group,
        "ModelPackageArn": arn,
        "ModelPackageVersion": _version_of(arn),
        "EndpointName": settings.endpoint_name,
        "EndpointConfigName": endpoint_config,
    }
    if failure_reason is not None:
        detail["FailureReason"] = failure_reason
    response = clients.events.put_events(
        Entries=[
            {
                "Source": settings.event_source,
                "DetailType": detail_type,
                "Detail": json.dumps(detail),
                "EventBusName": settings.event_bus,
                "Resources": [arn],
            }
        ]
    )
    if response.get("FailedEntryCount"):
        raise RetryableError(f"PutEvents failed for {detail_type}: {response['Entries']}")


def _notify(clients: Clients, settings: Settings, subject: str, message: str) -> None:
    clients.sns.publish(
        TopicArn=settings.topic_arn, Subject=subject[:_MAX_SUBJECT], Message=message
    )


def _outcome(outcome: str, reason: str, **fields: Any) -> dict[str, Any]:
    return {"outcome": outcome, "reason": reason, **fields}
