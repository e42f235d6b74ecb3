"""Typed pipeline steps: each renders its entry of the definition's ``Steps`` list and knows
what the pipeline role needs to run it."""

from __future__ import annotations

import abc
import enum
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from aws_cdk import aws_iam as iam

from sagemaker_lifecycle._internal.sagemaker_api import check_enum
from sagemaker_lifecycle._internal.validation import ValidationErrors, int_in_range
from sagemaker_lifecycle.model_registry import ModelRegistry
from sagemaker_lifecycle.pipelines.conditions import Condition
from sagemaker_lifecycle.pipelines.expressions import (
    NAME_PATTERN,
    Expression,
    Join,
    PropertyFile,
    PropertyReference,
    render,
)
from sagemaker_lifecycle.pipelines.jobs import (
    HyperparameterTuning,
    ModelDefinition,
    ProcessingJob,
    TrainingJob,
    TransformJob,
)

# ISO 8601 durations as the step cache accepts them ("P30D", "PT12H", "P1DT6H").
_ISO_DURATION = re.compile(
    r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$", re.IGNORECASE
)
_MAX_RETRY_ATTEMPTS = 20
_MAX_RETRY_EXPIRE_MINUTES = 14400
_MAX_RETRY_INTERVAL_SECONDS = 43200
_MAX_DISPLAY_NAME = 256
_MAX_DESCRIPTION = 3072


class RetryableError(enum.Enum):
    """Errors a step's retry policy can retry."""

    SERVICE_FAULT = "Step.SERVICE_FAULT"
    THROTTLING = "Step.THROTTLING"
    JOB_INTERNAL_ERROR = "SageMaker.JOB_INTERNAL_ERROR"
    CAPACITY_ERROR = "SageMaker.CAPACITY_ERROR"
    RESOURCE_LIMIT = "SageMaker.RESOURCE_LIMIT"


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """Retry a step after ``errors``, with exponential backoff.

    Give exactly one of ``max_attempts`` (1 to 20) and ``expire_after_minutes`` (up to
    14400, ten days).

    :param interval_seconds: wait before the first retry (at most 43200). Default: 1.
    :param backoff_rate: multiplier of the wait on each retry. Default: 2.0.
    """

    errors: Sequence[RetryableError]
    max_attempts: int | None = None
    expire_after_minutes: int | None = None
    interval_seconds: int = 1
    backoff_rate: float = 2.0

    def __post_init__(self) -> None:
        problems = ValidationErrors("RetryPolicy")
        problems.check(bool(self.errors), "errors must name at least one RetryableError")
        problems.check(
            (self.max_attempts is None) != (self.expire_after_minutes is None),
            "give exactly one of max_attempts and expire_after_minutes",
        )
        if self.max_attempts is not None:
            int_in_range(
                problems, "max_attempts", self.max_attempts, minimum=1, maximum=_MAX_RETRY_ATTEMPTS
            )
        if self.expire_after_minutes is not None:
            int_in_range(
                problems,
                "expire_after_minutes",
                self.expire_after_minutes,
                minimum=1,
                maximum=_MAX_RETRY_EXPIRE_MINUTES,
            )
        int_in_range(
            problems,
            "interval_seconds",
            self.interval_seconds,
            minimum=1,
            maximum=_MAX_RETRY_INTERVAL_SECONDS,
        )
        problems.check(
            self.backoff_rate >= 1.0, f"backoff_rate must be at least 1.0, got {self.backoff_rate}"
        )
        problems.raise_if_any()

    def to_json(self) -> dict[str, Any]:
        policy: dict[str, Any] = {
            "ExceptionType": [e.value for e in self.errors],
            "IntervalSeconds": self.interval_seconds,
            "BackoffRate": self.backoff_rate,
        }
        if self.max_attempts is not None:
            policy["MaxAttempts"] = self.max_attempts
        else:
            policy["ExpireAfterMin"] = self.expire_after_minutes
        return policy


@dataclass(frozen=True)
class CacheConfig:
    """Reuse a successful run of a step with the same arguments within ``expire_after``.

    :param expire_after: an ISO 8601 duration such as ``"P30D"`` or ``"PT12H"``.
    """

    expire_after: str

    def __post_init__(self) -> None:
        if not _ISO_DURATION.match(self.expire_after):
            raise ValueError(
                "CacheConfig expire_after must be an ISO 8601 duration such as 'P30D' or "
                f"'PT12H', got {self.expire_after!r}"
            )

    def to_json(self) -> dict[str, Any]:
        return {"Enabled": True, "ExpireAfter": self.expire_after}


class Step(abc.ABC):
    """A step of a pipeline definition.

    :param name: unique in the pipeline; 1 to 64 letters, digits, ``-`` or ``_``.
    :param depends_on: steps that must finish first, beyond those whose properties this
        step uses. Default: none.
    :param display_name: shown in Studio. Default: the name.
    :param description: what the step does. Default: none.
    """

    TYPE: ClassVar[str] = ""

    def __init__(
        self,
        name: str,
        *,
        depends_on: Sequence[Step | str] = (),
        display_name: str | None = None,
        description: str | None = None,
    ) -> None:
        errors = ValidationErrors(f"{type(self).__name__} {name!r}")
        errors.check(
            isinstance(name, str) and bool(NAME_PATTERN.match(name)),
            f"name must be 1 to 64 letters, digits, '-' or '_', got {name!r}",
        )
        if display_name is not None:
            errors.check(
                len(display_name) <= _MAX_DISPLAY_NAME,
                f"display_name must be at most {_MAX_DISPLAY_NAME} characters",
            )
        if description is not None:
            errors.check(
                len(description) <= _MAX_DESCRIPTION,
                f"description must be at most {_MAX_DESCRIPTION} characters",
            )
        errors.raise_if_any()
        self.name = name
        self.depends_on = [d.name if isinstance(d, Step) else d for d in depends_on]
        self.display_name = display_name
        self.description = description

    @property
    def properties(self) -> PropertyReference:
        """The step's properties, checked against the API model as they are read:
        ``train.properties.ModelArtifacts.S3ModelArtifacts``."""
        return PropertyReference(self.name, self.TYPE)

    @abc.abstractmethod
    def arguments(self) -> Mapping[str, Any]:
        """The step's ``Arguments`` (expressions not yet rendered)."""

    def extra_fields(self) -> dict[str, Any]:
        """Step-level members besides the common ones."""
        return {}

    def to_json(self) -> dict[str, Any]:
        """The step's entry in the definition's ``Steps`` list."""
        entry: dict[str, Any] = {"Name": self.name, "Type": self.TYPE}
        if self.display_name is not None:
            entry["DisplayName"] = self.display_name
        if self.description is not None:
            entry["Description"] = self.description
        if self.depends_on:
            entry["DependsOn"] = list(self.depends_on)
        entry["Arguments"] = render(self.arguments())
        entry.update(render(self.extra_fields()))
        return entry

    def children(self) -> Iterator[Step]:
        """Steps nested in this one (condition branches)."""
        return iter(())

    def passed_roles(self) -> list[iam.IRole]:
        """Roles the pipeline passes to SageMaker for this step (``iam:PassRole``)."""
        return []

    def job_actions(self) -> Mapping[str, tuple[str, ...]]:
        """SageMaker actions the pipeline role needs, by job ARN resource type; the pipeline
        grants them once per type on jobs named ``pipelines-*``."""
        return {}

    def bind(self, pipeline_role: iam.IGrantable) -> None:
        """Grant the pipeline role what running this step needs besides :meth:`job_actions`,
        and the step's job role its data; called once by the pipeline that holds the step."""
        del pipeline_role  # most steps need nothing beyond job_actions


class _JobStep(Step):
    """A step that starts a SageMaker job: caching and retry policies apply."""

    #: The job's ARN resource type and the actions the pipeline role needs on it.
    RESOURCE: ClassVar[str] = ""
    ACTIONS: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        name: str,
        *,
        cache: CacheConfig | None = None,
        retry_policies: Sequence[RetryPolicy] = (),
        depends_on: Sequence[Step | str] = (),
        display_name: str | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(
            name, depends_on=depends_on, display_name=display_name, description=description
        )
        self.cache = cache
        self.retry_policies = list(retry_policies)

    def extra_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if self.cache is not None:
            fields["CacheConfig"] = self.cache.to_json()
        if self.retry_policies:
            fields["RetryPolicies"] = [p.to_json() for p in self.retry_policies]
        return fields

    def job_actions(self) -> Mapping[str, tuple[str, ...]]:
        return {self.RESOURCE: self.ACTIONS} if self.ACTIONS else {}


class ProcessingStep(_JobStep):
    """Runs a processing job; may publish JSON property files read with ``JsonGet``.

    :param job: the processing job.
    :param property_files: JSON files in the job's outputs. Default: none.
    """

    TYPE = "Processing"
    RESOURCE = "processing-job"
    ACTIONS = (
        "sagemaker:CreateProcessingJob",
        "sagemaker:DescribeProcessingJob",
        "sagemaker:StopProcessingJob",
    )

    def __init__(
        self,
        name: str,
        job: ProcessingJob,
        *,
        property_files: Sequence[PropertyFile] = (),
        cache: CacheConfig | None = None,
        retry_policies: Sequence[RetryPolicy] = (),
        depends_on: Sequence[Step | str] = (),
        display_name: str | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(
            name,
            cache=cache,
            retry_policies=retry_policies,
            depends_on=depends_on,
            display_name=display_name,
            description=description,
        )
        self.job = job
        self.property_files = list(property_files)
        outputs = {o.name for o in job.outputs}
        for property_file in self.property_files:
            if property_file.output_name not in outputs:
                raise ValueError(
                    f"ProcessingStep '{name}': property file '{property_file.name}' names "
                    f"output '{property_file.output_name}', but the job's outputs are "
                    f"{sorted(outputs)}"
                )

    def arguments(self) -> Mapping[str, Any]:
        return self.job.to_arguments()

    def extra_fields(self) -> dict[str, Any]:
        fields = super().extra_fields()
        if self.property_files:
            fields["PropertyFiles"] = [p.to_json() for p in self.property_files]
        return fields

    def passed_roles(self) -> list[iam.IRole]:
        return [self.job.role]

    def bind(self, pipeline_role: iam.IGrantable) -> None:
        super().bind(pipeline_role)
        self.job.grant_data_access()
        # The pipeline itself reads property files to evaluate JsonGet.
        for property_file in self.property_files:
            output = self.job.output(property_file.output_name)
            if not isinstance(output.destination, (str, Expression)):
                output.destination.grant_read(pipeline_role)


class TrainingStep(_JobStep):
    """Runs a training job."""

    TYPE = "Training"
    RESOURCE = "training-job"
    ACTIONS = (
        "sagemaker:CreateTrainingJob",
        "sagemaker:DescribeTrainingJob",
        "sagemaker:StopTrainingJob",
    )

    def __init__(
        self,
        name: str,
        job: TrainingJob,
        *,
        cache: CacheConfig | None = None,
        retry_policies: Sequence[RetryPolicy] = (),
        depends_on: Sequence[Step | str] = (),
        display_name: str | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(
            name,
            cache=cache,
            retry_policies=retry_policies,
            depends_on=depends_on,
            display_name=display_name,
            description=description,
        )
        self.job = job

    def arguments(self) -> Mapping[str, Any]:
        return self.job.to_arguments()

    def passed_roles(self) -> list[iam.IRole]:
        return [self.job.role]

    def bind(self, pipeline_role: iam.IGrantable) -> None:
        super().bind(pipeline_role)
        self.job.grant_data_access()


class TuningStep(_JobStep):
    """Runs a hyperparameter tuning job.

    :meth:`best_model_uri` is the artifact of the best training job, for registration.
    """

    TYPE = "Tuning"
    RESOURCE = "hyper-parameter-tuning-job"
    ACTIONS = (
        "sagemaker:CreateHyperParameterTuningJob",
        "sagemaker:DescribeHyperParameterTuningJob",
        "sagemaker:StopHyperParameterTuningJob",
        "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
    )

    def __init__(
        self,
        name: str,
        tuning: HyperparameterTuning,
        *,
        cache: CacheConfig | None = None,
        retry_policies: Sequence[RetryPolicy] = (),
        depends_on: Sequence[Step | str] = (),
        display_name: str | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(
            name,
            cache=cache,
            retry_policies=retry_policies,
            depends_on=depends_on,
            display_name=display_name,
            description=description,
        )
        self.tuning = tuning

    def arguments(self) -> Mapping[str, Any]:
        return self.tuning.to_arguments()

    def best_model_uri(self, rank: int = 0) -> Expression:
        """``<output>/<training job name>/output/model.tar.gz`` of the ``rank``-th best job
        (0 is the best; tuning keeps the top 50)."""
        if not 0 <= rank <= 49:
            raise ValueError(f"rank must be from 0 to 49, got {rank}")
        output = self.tuning.training.output_uri()
        return Join(
            "/",
            [
                output,
                self.properties.TrainingJobSummaries[rank].TrainingJobName,
                "output/model.tar.gz",
            ],
        )

    def passed_roles(self) -> list[iam.IRole]:
        return [self.tuning.training.role]

    def bind(self, pipeline_role: iam.IGrantable) -> None:
        super().bind(pipeline_role)
        self.tuning.training.grant_data_access()


class TransformStep(_JobStep):
    """Runs a batch transform job.

    :param model_role: the role of the model the job uses, granted the job's input and
        output. Default: no grants (the caller grants the model's role).
    """

    TYPE = "Transform"
    RESOURCE = "transform-job"
    ACTIONS = (
        "sagemaker:CreateTransformJob",
        "sagemaker:DescribeTransformJob",
        "sagemaker:StopTransformJob",
    )

    def __init__(
        self,
        name: str,
        job: TransformJob,
        *,
        model_role: iam.IGrantable | None = None,
        cache: CacheConfig | None = None,
        retry_policies: Sequence[RetryPolicy] = (),
        depends_on: Sequence[Step | str] = (),
        display_name: str | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(
            name,
            cache=cache,
            retry_policies=retry_policies,
            depends_on=depends_on,
            display_name=display_name,
            description=description,
        )
        self.job = job
        self.model_role = model_role

    def arguments(self) -> Mapping[str, Any]:
        return self.job.to_arguments()

    def bind(self, pipeline_role: iam.IGrantable) -> None:
        super().bind(pipeline_role)
        if self.model_role is not None:
            self.job.grant_data_access(self.model_role)


class ModelStep(_JobStep):
    """Creates a SageMaker model (for a transform step)."""

    TYPE = "Model"
    RESOURCE = "model"
    ACTIONS = ("sagemaker:CreateModel", "sagemaker:DescribeModel")

    def __init__(
        self,
        name: str,
        model: ModelDefinition,
        *,
        retry_policies: Sequence[RetryPolicy] = (),
        depends_on: Sequence[Step | str] = (),
        display_name: str | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(
            name,
            retry_policies=retry_policies,
            depends_on=depends_on,
            display_name=display_name,
            description=description,
        )
        self.model = model

    def arguments(self) -> Mapping[str, Any]:
        return self.model.to_arguments()

    def passed_roles(self) -> list[iam.IRole]:
        return [self.model.role]


@dataclass(frozen=True, kw_only=True)
class MetricsReport:
    """A JSON report in S3 attached to a model version (``MetricsSource``)."""

    s3_uri: str | Expression
    content_type: str = "application/json"

    def to_json(self) -> dict[str, Any]:
        return {"ContentType": self.content_type, "S3Uri": self.s3_uri}


class RegisterModelStep(_JobStep):
    """Registers a model version (``CreateModelPackage``) in a :class:`ModelRegistry`.

    :param registry: the model package group; the pipeline role gets ``grant_register``.
    :param image_uri: the inference container.
    :param model_data_url: the artifact, such as ``train.properties.ModelArtifacts.
        S3ModelArtifacts``.
    :param content_types: input MIME types. Default: ``["text/csv"]``.
    :param response_types: output MIME types. Default: ``["text/csv"]``.
    :param inference_instance_types: real-time instance types. Default: ``ml.m5.large``.
    :param transform_instance_types: batch instance types. Default: ``ml.m5.xlarge``.
    :param approval_status: ``PendingManualApproval``, ``Approved`` or ``Rejected``.
        Default: ``PendingManualApproval`` (a person approves each version).
    :param model_quality: the evaluation report (``ModelMetrics.ModelQuality.Statistics``).
        Default: none.
    :param data_quality_statistics: training-data statistics (``ModelMetrics.
        ModelDataQuality.Statistics``). Default: none.
    :param model_package_description: shown in the registry. Default: none.
    :param customer_metadata: free-form key/value metadata. Default: none.
    """

    TYPE = "RegisterModel"

    def __init__(
        self,
        name: str,
        *,
        registry: ModelRegistry,
        image_uri: str | Expression,
        model_data_url: str | Expression,
        content_types: Sequence[str] = ("text/csv",),
        response_types: Sequence[str] = ("text/csv",),
        inference_instance_types: Sequence[str] = ("ml.m5.large",),
        transform_instance_types: Sequence[str] = ("ml.m5.xlarge",),
        approval_status: str = "PendingManualApproval",
        model_quality: MetricsReport | None = None,
        data_quality_statistics: MetricsReport | None = None,
        model_package_description: str | None = None,
        customer_metadata: Mapping[str, str | Expression] | None = None,
        retry_policies: Sequence[RetryPolicy] = (),
        depends_on: Sequence[Step | str] = (),
        display_name: str | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(
            name,
            retry_policies=retry_policies,
            depends_on=depends_on,
            display_name=display_name,
            description=description,
        )
        errors = ValidationErrors(f"RegisterModelStep '{name}'")
        check_enum(errors, "approval_status", approval_status, "ModelApprovalStatus")
        for instance_type in inference_instance_types:
            check_enum(
                errors,
                "inference_instance_types",
                instance_type,
                "ProductionVariantInstanceType",
            )
        for instance_type in transform_instance_types:
            check_enum(errors, "transform_instance_types", instance_type, "TransformInstanceType")
        errors.raise_if_any()
        self.registry = registry
        self.image_uri = image_uri
        self.model_data_url = model_data_url
        self.content_types = list(content_types)
        self.response_types = list(response_types)
        self.inference_instance_types = list(inference_instance_types)
        self.transform_instance_types = list(transform_instance_types)
        self.approval_status = approval_status
        self.model_quality = model_quality
        self.data_quality_statistics = data_quality_statistics
        self.model_package_description = model_package_description
        self.customer_metadata = dict(customer_metadata or {})

    def arguments(self) -> Mapping[str, Any]:
        arguments: dict[str, Any] = {
            "ModelPackageGroupName": self.registry.model_package_group_name,
            "ModelApprovalStatus": self.approval_status,
            "InferenceSpecification": {
                "Containers": [{"Image": self.image_uri, "ModelDataUrl": self.model_data_url}],
                "SupportedContentTypes": self.content_types,
                "SupportedResponseMIMETypes": self.response_types,
                "SupportedRealtimeInferenceInstanceTypes": self.inference_instance_types,
                "SupportedTransformInstanceTypes": self.transform_instance_types,
            },
        }
        metrics: dict[str, Any] = {}
        if self.model_quality is not None:
            metrics["ModelQuality"] = {"Statistics": self.model_quality.to_json()}
        if self.data_quality_statistics is not None:
            metrics["ModelDataQuality"] = {"Statistics": self.data_quality_statistics.to_json()}
        if metrics:
            arguments["ModelMetrics"] = metrics
        if self.model_package_description is not None:
            arguments["ModelPackageDescription"] = self.model_package_description
        if self.customer_metadata:
            arguments["CustomerMetadataProperties"] = self.customer_metadata
        return arguments

    def bind(self, pipeline_role: iam.IGrantable) -> None:
        self.registry.grant_register(pipeline_role)


class CheckType(enum.Enum):
    """What a check step baselines or checks."""

    DATA_QUALITY = "DATA_QUALITY"
    MODEL_QUALITY = "MODEL_QUALITY"
    DATA_BIAS = "DATA_BIAS"
    MODEL_BIAS = "MODEL_BIAS"
    MODEL_EXPLAINABILITY = "MODEL_EXPLAINABILITY"


_QUALITY_CHECKS = (CheckType.DATA_QUALITY, CheckType.MODEL_QUALITY)


class _CheckStep(ProcessingStep):
    """A quality or clarify check: a processing job plus drift-check settings."""

    ALLOWED: ClassVar[tuple[CheckType, ...]] = ()

    def __init__(
        self,
        name: str,
        job: ProcessingJob,
        *,
        check_type: CheckType,
        registry: ModelRegistry | None = None,
        skip_check: bool | Expression = False,
        fail_on_violation: bool | Expression = True,
        register_new_baseline: bool | Expression = False,
        supplied_baseline_constraints: str | Expression | None = None,
        cache: CacheConfig | None = None,
        depends_on: Sequence[Step | str] = (),
        display_name: str | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(
            name,
            job,
            cache=cache,
            depends_on=depends_on,
            display_name=display_name,
            description=description,
        )
        if check_type not in self.ALLOWED:
            allowed = ", ".join(c.name for c in self.ALLOWED)
            raise ValueError(
                f"{type(self).__name__} '{name}': check_type must be one of {allowed}, "
                f"got {check_type.name}"
            )
        self.check_type = check_type
        self.registry = registry
        self.skip_check = skip_check
        self.fail_on_violation = fail_on_violation
        self.register_new_baseline = register_new_baseline
        self.supplied_baseline_constraints = supplied_baseline_constraints

    def extra_fields(self) -> dict[str, Any]:
        fields = super().extra_fields()
        fields.update(
            {
                "CheckType": self.check_type.value,
                "SkipCheck": self.skip_check,
                "FailOnViolation": self.fail_on_violation,
                "RegisterNewBaseline": self.register_new_baseline,
            }
        )
        if self.registry is not None:
            fields["ModelPackageGroupName"] = self.registry.model_package_group_name
        if self.supplied_baseline_constraints is not None:
            fields["SuppliedBaselineConstraints"] = self.supplied_baseline_constraints
        return fields

    def bind(self, pipeline_role: iam.IGrantable) -> None:
        super().bind(pipeline_role)
        # Baselines of the latest approved version are looked up in the group.
        if self.registry is not None:
            self.registry.grant_read(pipeline_role)


class QualityCheckStep(_CheckStep):
    """A data- or model-quality check (model monitor analyzer) that can baseline drift.

    :param supplied_baseline_statistics: statistics to check against. Default: the latest
        approved version's (with ``registry``).
    """

    TYPE = "QualityCheck"
    ALLOWED = _QUALITY_CHECKS

    def __init__(
        self,
        name: str,
        job: ProcessingJob,
        *,
        check_type: CheckType,
        supplied_baseline_statistics: str | Expression | None = None,
        registry: ModelRegistry | None = None,
        skip_check: bool | Expression = False,
        fail_on_violation: bool | Expression = True,
        register_new_baseline: bool | Expression = False,
        supplied_baseline_constraints: str | Expression | None = None,
        cache: CacheConfig | None = None,
        depends_on: Sequence[Step | str] = (),
        display_name: str | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(
            name,
            job,
            check_type=check_type,
            registry=registry,
            skip_check=skip_check,
            fail_on_violation=fail_on_violation,
            register_new_baseline=register_new_baseline,
            supplied_baseline_constraints=supplied_baseline_constraints,
            cache=cache,
            depends_on=depends_on,
            display_name=display_name,
            description=description,
        )
        self.supplied_baseline_statistics = supplied_baseline_statistics

    def extra_fields(self) -> dict[str, Any]:
        fields = super().extra_fields()
        if self.supplied_baseline_statistics is not None:
            fields["SuppliedBaselineStatistics"] = self.supplied_baseline_statistics
        return fields


class ClarifyCheckStep(_CheckStep):
    """A SageMaker Clarify bias or explainability check that can baseline drift."""

    TYPE = "ClarifyCheck"
    ALLOWED = (CheckType.DATA_BIAS, CheckType.MODEL_BIAS, CheckType.MODEL_EXPLAINABILITY)


class ConditionStep(Step):
    """Runs ``if_steps`` when every condition holds, else ``else_steps``.

    Branch steps are defined inside this step only; list the condition step (not its
    branches) in the pipeline.
    """

    TYPE = "Condition"

    def __init__(
        self,
        name: str,
        *,
        conditions: Sequence[Condition],
        if_steps: Sequence[Step] = (),
        else_steps: Sequence[Step] = (),
        depends_on: Sequence[Step | str] = (),
        display_name: str | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(
            name, depends_on=depends_on, display_name=display_name, description=description
        )
        if not conditions:
            raise ValueError(f"ConditionStep '{name}': conditions must not be empty")
        if not if_steps and not else_steps:
            raise ValueError(f"ConditionStep '{name}': give if_steps, else_steps or both")
        self.conditions = list(conditions)
        self.if_steps = list(if_steps)
        self.else_steps = list(else_steps)

    def arguments(self) -> Mapping[str, Any]:
        return {
            "Conditions": [c.to_json() for c in self.conditions],
            "IfSteps": [s.to_json() for s in self.if_steps],
            "ElseSteps": [s.to_json() for s in self.else_steps],
        }

    def children(self) -> Iterator[Step]:
        yield from self.if_steps
        yield from self.else_steps


class FailStep(Step):
    """Stops the execution as failed with ``error_message``."""

    TYPE = "Fail"

    def __init__(
        self,
        name: str,
        *,
        error_message: str | Expression,
        depends_on: Sequence[Step | str] = (),
        display_name: str | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(
            name, depends_on=depends_on, display_name=display_name, description=description
        )
        self.error_message = error_message

    def arguments(self) -> Mapping[str, Any]:
        return {"ErrorMessage": self.error_message}
