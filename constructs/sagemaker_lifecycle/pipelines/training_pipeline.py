"""A SageMaker pipeline (``AWS::SageMaker::Pipeline``) built from a typed definition."""

from __future__ import annotations

import hashlib
import json
import zoneinfo
from collections.abc import Mapping, Sequence

import jsii
from aws_cdk import ArnFormat, Duration, RemovalPolicy, Resource, Stack, TimeZone, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3_deployment as s3_deployment
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sns as sns
from aws_cdk.interfaces import aws_sagemaker as sagemaker_refs
from constructs import Construct, IValidation

from sagemaker_lifecycle import metrics
from sagemaker_lifecycle._internal.messaging import encrypted_topic, grant_service_publish
from sagemaker_lifecycle._internal.nag import (
    acknowledge,
    acknowledge_each,
    acknowledge_grant_wildcards,
    acknowledge_inline_policy,
    in_all_packs,
    wildcard_findings,
)
from sagemaker_lifecycle._internal.sagemaker_api import check_name
from sagemaker_lifecycle._internal.schedules import check_schedule
from sagemaker_lifecycle._internal.validation import ValidationErrors, int_in_range
from sagemaker_lifecycle.pipelines.definition import PipelineDefinition
from sagemaker_lifecycle.pipelines.locations import LakeLocation

#: The SageMaker Python SDK's threshold for sending a definition through S3: a definition
#: is inlined in the template below it, and the template itself stays well under
#: CloudFormation's 1 MB limit.
DEFAULT_INLINE_DEFINITION_LIMIT = 100 * 1024
_MAX_DEFINITION = 1048576  # CreatePipeline PipelineDefinition max length
_MAX_DESCRIPTION = 3072
_MAX_PARALLEL_STEPS = 256

#: Execution statuses of the "SageMaker Model Building Pipeline Execution Status Change" event.
EXECUTION_STATUSES = ("Executing", "Stopping", "Stopped", "Failed", "Succeeded")
_STATUS_EVENT = "SageMaker Model Building Pipeline Execution Status Change"
_SAGEMAKER = "sagemaker.amazonaws.com"


@jsii.implements(sagemaker.IPipeline)
class TrainingPipeline(Resource):
    """A SageMaker pipeline whose definition is built and validated from typed steps.

    The definition is checked against the SageMaker API model when the construct is
    created (see :meth:`PipelineDefinition.validate`); any problem fails synthesis with the
    step name and JSON path. Definitions up to ``inline_definition_limit`` bytes are inlined
    in the template, larger ones are deployed to ``definition_location`` in the data lake.

    The pipeline role may start, watch and stop only the jobs pipelines start
    (``pipelines-*``), pass only the roles the steps use, and read or register only what
    the steps name. Failed executions are published to an encrypted SNS topic; an optional
    EventBridge Scheduler schedule starts executions. The construct is an
    ``aws_sagemaker.IPipeline``, so CDK's scheduler targets accept it.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        pipeline_name: str,
        definition: PipelineDefinition,
        role: iam.IRole | None = None,
        description: str | None = None,
        max_parallel_steps: int | None = None,
        schedule: str | None = None,
        schedule_parameters: Mapping[str, str] | None = None,
        schedule_time_zone: str | None = None,
        notify_on_failure: bool = True,
        alarm_topic: sns.ITopic | None = None,
        key: kms.IKey | None = None,
        definition_location: LakeLocation | None = None,
        inline_definition_limit: int = DEFAULT_INLINE_DEFINITION_LIMIT,
    ) -> None:
        """
        :param pipeline_name: the pipeline's name, part of the contract with whoever starts
            it (1 to 256 letters, digits and hyphens).
        :param definition: the steps and parameters.
        :param role: the role the pipeline runs as; the grants are added to it.
            Default: a new role assumed by SageMaker.
        :param description: shown in Studio. Default: none.
        :param max_parallel_steps: steps run at once. Default: SageMaker's default.
        :param schedule: an EventBridge Scheduler expression (``rate(7 days)``,
            ``cron(0 3 ? * MON *)``) that starts executions. Default: no schedule.
        :param schedule_parameters: parameter values for scheduled executions.
            Default: the parameters' defaults.
        :param schedule_time_zone: the IANA time zone (``Europe/Paris``) a cron
            ``schedule`` is read in, daylight saving included. Default: UTC.
        :param notify_on_failure: publish failed executions to ``alarm_topic``.
            Default: True.
        :param alarm_topic: where failures go. Default: a new topic encrypted with ``key``.
        :param key: KMS key of the new topic and the schedule. Default: a new key with
            rotation on.
        :param definition_location: where a definition above ``inline_definition_limit``
            is written. Default: none (such a definition fails synthesis).
        :param inline_definition_limit: the largest definition (bytes) kept inline in the
            template. Default: 100 KiB, as the SageMaker Python SDK does.
        """
        super().__init__(scope, id, physical_name=pipeline_name)
        errors = ValidationErrors("TrainingPipeline")
        check_name(errors, "pipeline_name", pipeline_name, "PipelineName")
        if description is not None:
            errors.check(
                len(description) <= _MAX_DESCRIPTION,
                f"description must be at most {_MAX_DESCRIPTION} characters, "
                f"got {len(description)}",
            )
        if max_parallel_steps is not None:
            int_in_range(
                errors,
                "max_parallel_steps",
                max_parallel_steps,
                minimum=1,
                maximum=_MAX_PARALLEL_STEPS,
            )
        int_in_range(
            errors,
            "inline_definition_limit",
            inline_definition_limit,
            minimum=1024,
            maximum=_MAX_DEFINITION,
        )
        if schedule is not None:
            check_schedule(errors, "schedule", schedule)
        if schedule_time_zone is not None and not Token.is_unresolved(schedule_time_zone):
            errors.check(
                schedule_time_zone in zoneinfo.available_timezones(),
                "schedule_time_zone must be an IANA time zone such as 'Europe/Paris', "
                f"got {schedule_time_zone!r}",
            )
        declared = {p.name for p in definition.parameters}
        for name in schedule_parameters or {}:
            errors.check(
                name in declared,
                f"schedule_parameters names parameter {name!r}, which the definition does not "
                f"declare (declared: {sorted(declared)})",
            )
        for problem in definition.validate():
            errors.add(f"definition: {problem}")
        errors.raise_if_any()

        self.definition = definition
        self._pipeline_name = pipeline_name
        stack = Stack.of(self)
        self._pipeline_arn = stack.format_arn(
            service="sagemaker",
            resource="pipeline",
            # SageMaker lower-cases pipeline names in ARNs (and in its events).
            resource_name=pipeline_name
            if Token.is_unresolved(pipeline_name)
            else pipeline_name.lower(),
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
        self.role: iam.IRole = role or iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(_SAGEMAKER),
            description=f"Runs SageMaker pipeline {pipeline_name}",
        )
        acknowledge_inline_policy(self.role)
        self._grant_steps()

        body = definition.to_json()
        #: The deployment of a definition too large to inline, if any.
        self.definition_deployment: s3_deployment.BucketDeployment | None = None
        self.resource = sagemaker.CfnPipeline(
            self,
            "Resource",
            pipeline_name=pipeline_name,
            role_arn=self.role.role_arn,
            pipeline_description=description,
            pipeline_definition=self._definition_property(
                body, definition_location, inline_definition_limit
            ),
            parallelism_configuration=(
                {"MaxParallelExecutionSteps": max_parallel_steps}
                if max_parallel_steps is not None
                else None
            ),
        )
        # The role's policy must exist before the pipeline can be created and run, and a
        # definition in S3 before the pipeline reads it.
        for policy in self.role.node.find_all():
            if isinstance(policy, iam.CfnPolicy):
                self.resource.node.add_dependency(policy)
        if self.definition_deployment is not None:
            self.resource.node.add_dependency(self.definition_deployment)

        self.key: kms.IKey | None = key
        self.alarm_topic: sns.ITopic | None = None
        self.failure_rule: events.Rule | None = None
        if notify_on_failure:
            self.alarm_topic = alarm_topic or self._failure_topic()
            self.failure_rule = self.on_execution_status_change(
                "ExecutionFailedRule",
                statuses=["Failed"],
                target=targets.SnsTopic(self.alarm_topic),
                description=f"Failed executions of SageMaker pipeline {pipeline_name}",
            )
        self.schedule: scheduler.Schedule | None = None
        if schedule is not None:
            self.schedule = self._schedule(
                schedule, dict(schedule_parameters or {}), schedule_time_zone
            )

    # -- IPipeline ------------------------------------------------------------------------

    @property
    def pipeline_name(self) -> str:
        """The pipeline's name."""
        return self._pipeline_name

    @property
    def pipeline_arn(self) -> str:
        """The pipeline's ARN."""
        return self._pipeline_arn

    @property
    def pipeline_ref(self) -> sagemaker_refs.PipelineReference:
        """A reference to the pipeline for CDK's L1 interfaces."""
        return sagemaker_refs.PipelineReference(pipeline_name=self._pipeline_name)

    def grant_start_pipeline_execution(self, grantee: iam.IGrantable) -> iam.Grant:
        """Same as :meth:`grant_start_execution` (the ``IPipeline`` name)."""
        return self.grant_start_execution(grantee)

    # -- grants, events, metrics ----------------------------------------------------------

    def grant_start_execution(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` start executions of this pipeline (and nothing else)."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:StartPipelineExecution"],
            resource_arns=[self.pipeline_arn],
        )

    def grant_read_executions(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` describe and list this pipeline's executions and their steps."""
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[
                "sagemaker:DescribePipeline",
                "sagemaker:ListPipelineExecutions",
                "sagemaker:DescribePipelineExecution",
                "sagemaker:ListPipelineExecutionSteps",
            ],
            resource_arns=[self.pipeline_arn, f"{self.pipeline_arn}/execution/*"],
        )
        acknowledge_grant_wildcards(
            grantee,
            grant.principal_statements,
            f"Execution ids of pipeline {self.pipeline_name} are assigned when each execution "
            "starts; the grant covers executions of this one pipeline.",
        )
        return grant

    def on_execution_status_change(
        self,
        id: str,
        *,
        statuses: Sequence[str] | None = None,
        target: events.IRuleTarget | None = None,
        description: str | None = None,
    ) -> events.Rule:
        """An EventBridge rule for this pipeline's execution status changes.

        :param statuses: only these new statuses (``Failed``, ``Succeeded``, ...).
            Default: every change.
        """
        detail: dict[str, object] = {"pipelineArn": [self.pipeline_arn]}
        if statuses is not None:
            unknown = sorted(set(statuses) - set(EXECUTION_STATUSES))
            if unknown:
                raise ValueError(
                    f"statuses {unknown} are not pipeline execution statuses "
                    f"({', '.join(EXECUTION_STATUSES)})"
                )
            detail["currentPipelineExecutionStatus"] = list(statuses)
        return events.Rule(
            self,
            id,
            description=description,
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"], detail_type=[_STATUS_EVENT], detail=detail
            ),
            targets=[target] if target is not None else None,
        )

    def metric(self, metric_name: str, **props: object) -> cloudwatch.Metric:
        """A metric of this pipeline in ``AWS/Sagemaker/ModelBuildingPipeline`` (sum over
        five minutes unless ``props`` say otherwise)."""
        options: dict[str, object] = {"statistic": "Sum", "period": Duration.minutes(5)}
        options.update(props)
        return cloudwatch.Metric(
            namespace=metrics.PIPELINE_NAMESPACE,
            metric_name=metric_name,
            dimensions_map={metrics.DIM_PIPELINE_NAME: self.pipeline_name},
            **options,  # type: ignore[arg-type]
        )

    def metric_execution_started(self, **props: object) -> cloudwatch.Metric:
        """Executions started."""
        return self.metric(metrics.PIPELINE_EXECUTION_STARTED, **props)

    def metric_execution_succeeded(self, **props: object) -> cloudwatch.Metric:
        """Executions that succeeded."""
        return self.metric(metrics.PIPELINE_EXECUTION_SUCCEEDED, **props)

    def metric_execution_failed(self, **props: object) -> cloudwatch.Metric:
        """Executions that failed."""
        return self.metric(metrics.PIPELINE_EXECUTION_FAILED, **props)

    def metric_execution_stopped(self, **props: object) -> cloudwatch.Metric:
        """Executions that were stopped."""
        return self.metric(metrics.PIPELINE_EXECUTION_STOPPED, **props)

    # -- internals ------------------------------------------------------------------------

    def _grant_steps(self) -> None:
        stack = Stack.of(self)
        for resource, actions in self.definition.job_actions().items():
            # Pipelines name the jobs they start "pipelines-<execution>-<step>-<suffix>";
            # models created by a model step get generated names without that prefix.
            name = "*" if resource == "model" else "pipelines-*"
            arn = stack.format_arn(
                service="sagemaker",
                resource=resource,
                resource_name=name,
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            )
            grant = iam.Grant.add_to_principal(
                grantee=self.role, actions=[*actions, "sagemaker:AddTags"], resource_arns=[arn]
            )
            acknowledge_grant_wildcards(
                self.role,
                grant.principal_statements,
                f"SageMaker Pipelines names each {resource} it creates at run time; "
                f"'{resource}/{name}' is the narrowest ARN that covers them.",
            )
        roles = self.definition.passed_roles()
        if roles:
            iam.Grant.add_to_principal(
                grantee=self.role,
                actions=["iam:PassRole"],
                resource_arns=[r.role_arn for r in roles],
                conditions={"StringEquals": {"iam:PassedToService": _SAGEMAKER}},
            )
        for step in self.definition.all_steps():
            step.bind(self.role)

    def _definition_property(
        self, body: dict[str, object], location: LakeLocation | None, limit: int
    ) -> dict[str, object]:
        stack = Stack.of(self)
        size = len(json.dumps(stack.resolve(body), separators=(",", ":")))
        if size <= limit:
            return {"PipelineDefinitionBody": stack.to_json_string(body)}
        if location is None:
            raise ValueError(
                f"TrainingPipeline: the definition is about {size} bytes, above "
                f"inline_definition_limit ({limit}); give definition_location (a data-lake "
                "prefix) so it is deployed to S3 instead"
            )
        # The key changes with the content, so CloudFormation updates the pipeline whenever
        # the definition changes.
        digest = hashlib.sha256(
            json.dumps(stack.resolve(body), sort_keys=True).encode()
        ).hexdigest()[:16]
        object_key = f"{location.key_prefix}/{self._pipeline_name}-{digest}.json"
        deployment = s3_deployment.BucketDeployment(
            self,
            "DefinitionDeployment",
            destination_bucket=location.data_lake.bucket(location.zone),
            destination_key_prefix=f"{location.key_prefix}/",
            sources=[s3_deployment.Source.json_data(object_key.rsplit("/", 1)[1], body)],
            prune=False,
            retain_on_delete=True,
            server_side_encryption=s3_deployment.ServerSideEncryption.AWS_KMS,
            server_side_encryption_aws_kms_key_id=location.data_lake.key.key_id,
        )
        self.definition_deployment = deployment
        self._acknowledge_deployment(deployment)
        return {
            "PipelineDefinitionS3Location": {
                "Bucket": deployment.deployed_bucket.bucket_name,
                "Key": object_key,
            }
        }

    def _acknowledge_deployment(self, deployment: s3_deployment.BucketDeployment) -> None:
        stack = Stack.of(self)
        handler_role = deployment.handler_role
        acknowledge_inline_policy(handler_role)
        handler_role.node.add_validation(
            _PolicyWildcardAcknowledgement(
                handler_role,
                "CDK's BucketDeployment handler role: CDK's S3 and KMS action groups on the "
                "asset staging bucket and the data-lake bucket it copies the definition into; "
                "it runs only during deployments.",
            )
        )
        acknowledge_each(
            deployment.handler_role,
            [
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]"
            ],
            "CDK's BucketDeployment handler uses the AWS-managed basic execution policy to "
            "write its own logs; it runs only during deployments.",
        )
        for child in stack.node.children:
            if child.node.id.startswith("Custom::CDKBucketDeployment"):
                acknowledge_each(
                    child,
                    [
                        "AwsSolutions-L1",
                        *in_all_packs("CloudWatchLogGroupEncrypted"),
                        *in_all_packs("LambdaConcurrency"),
                        *in_all_packs("LambdaDLQ"),
                        *in_all_packs("LambdaInsideVPC"),
                    ],
                    "CDK's BucketDeployment handler copies the pipeline definition into the "
                    "data lake during deployments only, synchronously for CloudFormation, "
                    "and talks only to S3; its runtime is pinned by aws-cdk-lib and its log "
                    "group holds copy status lines, never data.",
                )

    def _failure_topic(self) -> sns.ITopic:
        key = self.key or kms.Key(
            self,
            "Key",
            description=f"Encrypts notifications and the schedule of pipeline {self.pipeline_name}",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.key = key
        topic = encrypted_topic(
            self, "FailureTopic", key=key, display_name=f"{self.pipeline_name} failures"
        )
        grant_service_publish(topic, key, "events.amazonaws.com")
        return topic

    def _schedule(
        self, expression: str, parameters: dict[str, str], time_zone: str | None
    ) -> scheduler.Schedule:
        role = iam.Role(
            self,
            "ScheduleRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            ),
            description=f"Lets EventBridge Scheduler start pipeline {self.pipeline_name}",
        )
        acknowledge_inline_policy(role)
        key = self.key or kms.Key(
            self,
            "Key",
            description=f"Encrypts notifications and the schedule of pipeline {self.pipeline_name}",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.key = key
        target = scheduler_targets.SageMakerStartPipelineExecution(
            self,
            role=role,
            pipeline_parameter_list=[
                scheduler_targets.SageMakerPipelineParameter(name=name, value=value)
                for name, value in sorted(parameters.items())
            ]
            or None,
        )
        return scheduler.Schedule(
            self,
            "Schedule",
            schedule=scheduler.ScheduleExpression.expression(
                expression, TimeZone.of(time_zone) if time_zone is not None else None
            ),
            target=target,
            key=key,
            description=f"Starts SageMaker pipeline {self.pipeline_name}",
        )


@jsii.implements(IValidation)
class _PolicyWildcardAcknowledgement:
    """Acknowledges the IAM5 findings of a role's generated policy (CDK-owned roles whose
    statements we do not write), computed from the synthesized statements."""

    def __init__(self, role: iam.IRole, reason: str) -> None:
        self._role = role
        self._reason = reason

    def validate(self) -> list[str]:
        stack = Stack.of(self._role)
        for child in self._role.node.find_all():
            if isinstance(child, iam.Policy):
                document = stack.resolve(child.document.to_json())
                for statement in document.get("Statement", []):
                    for finding in wildcard_findings(statement):
                        acknowledge(self._role, finding, self._reason)
        return []
