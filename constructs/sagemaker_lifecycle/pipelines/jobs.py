"""Typed SageMaker jobs for pipeline steps, secure by default.

Every job encrypts its volumes and outputs with a KMS key, isolates the container from the
network (``enable_network_isolation``, on by default), encrypts traffic between instances of
a distributed job, and runs in the :class:`~sagemaker_lifecycle.MlNetwork` when one is given.
``overrides`` deep-merges raw API members the typed props do not cover; the definition is
checked against botocore either way.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import Duration, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3_assets as s3_assets

from sagemaker_lifecycle._internal.instance_types import has_local_instance_storage
from sagemaker_lifecycle._internal.sagemaker_api import check_enum
from sagemaker_lifecycle._internal.validation import ValidationErrors, one_of
from sagemaker_lifecycle.ml_network import MlNetwork
from sagemaker_lifecycle.pipelines.expressions import Expression
from sagemaker_lifecycle.pipelines.locations import LakeLocation

#: Where data comes from: a data-lake location, an asset (scripts), an S3 URI or an expression.
Source = LakeLocation | s3_assets.Asset | str | Expression
#: Where data goes: a data-lake location (a folder per execution), an S3 URI or an expression.
Destination = LakeLocation | str | Expression
Scalar = str | int | float | bool | Expression

_MAX_VOLUME_GB = 16384


def _uri(value: Source) -> str | Expression:
    if isinstance(value, LakeLocation):
        # The trailing slash keeps "churn/input" from also matching "churn/input-old/".
        return f"{value.uri}/"
    if isinstance(value, s3_assets.Asset):
        return value.s3_object_url
    return value


def _grant_source(source: Source, grantee: iam.IGrantable) -> None:
    if isinstance(source, LakeLocation):
        source.grant_read(grantee)
    elif isinstance(source, s3_assets.Asset):
        # Exactly the asset's object: the staging bucket holds every asset of the account.
        # SageMaker lists the input prefix first, which here is the object's own key.
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["s3:GetObject"],
            resource_arns=[f"{source.bucket.bucket_arn}/{source.s3_object_key}"],
        )
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["s3:ListBucket"],
            resource_arns=[source.bucket.bucket_arn],
            conditions={"StringEquals": {"s3:prefix": [source.s3_object_key]}},
        )


def _volume_key(instance_type: str | Any, key: kms.IKey) -> dict[str, Any]:
    """``{"VolumeKmsKeyId": ...}`` unless the instance type's storage is local NVMe.

    CreateTrainingJob, CreateProcessingJob and CreateTransformJob reject a volume key for
    instance types with local instance storage, which their hardware encrypts instead (the
    ResourceConfig, ProcessingClusterConfig and TransformResources API docs). A type given
    as a pipeline parameter is only known at run time and keeps the key.
    """
    if (
        isinstance(instance_type, str)
        and not Token.is_unresolved(instance_type)
        and has_local_instance_storage(instance_type)
    ):
        return {}
    return {"VolumeKmsKeyId": key.key_arn}


def _deep_merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.copy(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _seconds(errors: ValidationErrors, prop: str, value: Duration) -> int:
    if Token.is_unresolved(value.to_string()):
        return 0
    seconds = int(value.to_seconds())
    errors.check(seconds >= 1, f"{prop} must be at least 1 second, got {value.to_human_string()}")
    return seconds


def _check_count(errors: ValidationErrors, prop: str, value: int | Expression) -> None:
    if isinstance(value, Expression) or Token.is_unresolved(value):
        return
    errors.check(
        isinstance(value, int) and not isinstance(value, bool) and value >= 1,
        f"{prop} must be a positive integer, got {value!r}",
    )


def _check_volume(errors: ValidationErrors, value: int | Expression) -> None:
    if isinstance(value, Expression) or Token.is_unresolved(value):
        return
    errors.check(
        isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= _MAX_VOLUME_GB,
        f"volume_size_gb must be an integer from 1 to {_MAX_VOLUME_GB}, got {value!r}",
    )


def _instance_type(errors: ValidationErrors, value: str | Expression, shape_name: str) -> None:
    if not isinstance(value, Expression):
        check_enum(errors, "instance_type", value, shape_name)


@dataclass(frozen=True, kw_only=True)
class JobSecurity:
    """Encryption and network settings every job of the library applies.

    :param key: KMS key for volumes and outputs (usually the data lake's key).
    :param network: run in this network's subnets with its workload security group.
        Default: no VPC (the job still cannot reach the internet with network isolation).
    :param enable_network_isolation: no network access from the container; inputs and
        outputs still move through SageMaker. Default: True.
    :param encrypt_inter_container_traffic: encrypt traffic between instances of a
        distributed job (slightly slower training). Default: True.
    """

    key: kms.IKey
    network: MlNetwork | None = None
    enable_network_isolation: bool = True
    encrypt_inter_container_traffic: bool = True

    def vpc_config(self) -> dict[str, Any] | None:
        return self.network.sagemaker_vpc_config() if self.network else None


# --- processing ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ProcessingInput:
    """Data copied into a processing container before the job starts.

    :param name: the input's name (``InputName``).
    :param source: where the data is; a :class:`LakeLocation` or asset is granted read.
    :param destination: the path inside the container, under ``/opt/ml/processing/``.
    :param s3_data_type: ``S3Prefix`` (every object under the URI) or ``S3Object``.
        Default: ``S3Prefix``.
    :param distribution: ``FullyReplicated`` or ``ShardedByS3Key``. Default: replicated.
    """

    name: str
    source: Source
    destination: str
    s3_data_type: str = "S3Prefix"
    distribution: str = "FullyReplicated"

    def to_json(self) -> dict[str, Any]:
        return {
            "InputName": self.name,
            "AppManaged": False,
            "S3Input": {
                "S3Uri": _uri(self.source),
                "LocalPath": self.destination,
                "S3DataType": self.s3_data_type,
                "S3InputMode": "File",
                "S3DataDistributionType": self.distribution,
                "S3CompressionType": "None",
            },
        }

    def grant(self, grantee: iam.IGrantable) -> None:
        _grant_source(self.source, grantee)


@dataclass(frozen=True, kw_only=True)
class ProcessingOutput:
    """Data uploaded from a processing container when the job ends.

    :param name: the output's name (``OutputName``), used by properties and property files.
    :param source: the path inside the container, under ``/opt/ml/processing/``.
    :param destination: where the data goes. A :class:`LakeLocation` gets a folder per
        execution (``<prefix>/<execution id>/<name>``) and is granted write.
    """

    name: str
    source: str
    destination: Destination

    def s3_uri(self) -> str | Expression:
        if isinstance(self.destination, LakeLocation):
            return self.destination.execution_uri(self.name)
        return self.destination

    def to_json(self) -> dict[str, Any]:
        return {
            "OutputName": self.name,
            "AppManaged": False,
            "S3Output": {
                "S3Uri": self.s3_uri(),
                "LocalPath": self.source,
                "S3UploadMode": "EndOfJob",
            },
        }

    def grant(self, grantee: iam.IGrantable) -> None:
        if isinstance(self.destination, LakeLocation):
            self.destination.grant_write(grantee)


@dataclass(frozen=True, kw_only=True)
class ProcessingJob(JobSecurity):
    """A processing job (``CreateProcessingJob``) for a processing or check step.

    :param role: the job's execution role (see :class:`~sagemaker_lifecycle.ExecutionRole`).
    :param image_uri: the container (:func:`sagemaker_lifecycle.images.image_uri`).
    :param entrypoint: the container entrypoint, such as ``["python3", "/opt/ml/processing/
        input/code/preprocess.py"]``. Default: the image's own.
    :param arguments: arguments for the entrypoint. Default: none.
    :param instance_type: a ``ProcessingInstanceType``. Default: ``ml.m5.xlarge``.
    :param instance_count: instances. Default: 1.
    :param volume_size_gb: storage per instance. Default: 30.
    :param max_runtime: stop the job after this long. Default: one hour.
    :param environment: environment variables. Default: none.
    :param inputs: data copied in. Default: none.
    :param outputs: data copied out. Default: none.
    :param overrides: raw ``CreateProcessingJob`` members merged over the typed ones.
    """

    role: iam.IRole
    image_uri: str | Expression
    entrypoint: Sequence[str | Expression] = ()
    arguments: Sequence[str | Expression] = ()
    instance_type: str | Expression = "ml.m5.xlarge"
    instance_count: int | Expression = 1
    volume_size_gb: int | Expression = 30
    max_runtime: Duration = field(default_factory=lambda: Duration.hours(1))
    environment: Mapping[str, str | Expression] = field(default_factory=dict)
    inputs: Sequence[ProcessingInput] = ()
    outputs: Sequence[ProcessingOutput] = ()
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        errors = ValidationErrors("ProcessingJob")
        _instance_type(errors, self.instance_type, "ProcessingInstanceType")
        _check_count(errors, "instance_count", self.instance_count)
        _check_volume(errors, self.volume_size_gb)
        _seconds(errors, "max_runtime", self.max_runtime)
        names = [i.name for i in self.inputs] + [o.name for o in self.outputs]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        errors.check(not duplicates, f"input and output names must be unique, got {duplicates}")
        errors.raise_if_any()

    def output(self, name: str) -> ProcessingOutput:
        """The output named ``name``."""
        for output in self.outputs:
            if output.name == name:
                return output
        raise KeyError(f"no processing output named {name!r}")

    def to_arguments(self) -> dict[str, Any]:
        """The step's ``Arguments`` (``CreateProcessingJob`` without the job name)."""
        app: dict[str, Any] = {"ImageUri": self.image_uri}
        if self.entrypoint:
            app["ContainerEntrypoint"] = list(self.entrypoint)
        if self.arguments:
            app["ContainerArguments"] = list(self.arguments)
        network: dict[str, Any] = {
            "EnableNetworkIsolation": self.enable_network_isolation,
            "EnableInterContainerTrafficEncryption": self.encrypt_inter_container_traffic,
        }
        if vpc := self.vpc_config():
            network["VpcConfig"] = vpc
        arguments: dict[str, Any] = {
            "RoleArn": self.role.role_arn,
            "AppSpecification": app,
            "ProcessingResources": {
                "ClusterConfig": {
                    "InstanceType": self.instance_type,
                    "InstanceCount": self.instance_count,
                    "VolumeSizeInGB": self.volume_size_gb,
                    **_volume_key(self.instance_type, self.key),
                }
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": int(self.max_runtime.to_seconds())},
            "NetworkConfig": network,
        }
        if self.environment:
            arguments["Environment"] = dict(self.environment)
        if self.inputs:
            arguments["ProcessingInputs"] = [i.to_json() for i in self.inputs]
        if self.outputs:
            arguments["ProcessingOutputConfig"] = {
                "Outputs": [o.to_json() for o in self.outputs],
                "KmsKeyId": self.key.key_arn,
            }
        return _deep_merge(arguments, self.overrides)

    def grant_data_access(self) -> None:
        """Give the job role read on its inputs and write on its outputs."""
        for source in self.inputs:
            source.grant(self.role)
        for output in self.outputs:
            output.grant(self.role)


# --- training ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TrainingChannel:
    """A training input channel.

    :param name: the channel (``train``, ``validation``).
    :param source: where the data is; a :class:`LakeLocation` is granted read.
    :param content_type: the data's MIME type, such as ``text/csv``. Default: none.
    :param distribution: ``FullyReplicated`` or ``ShardedByS3Key`` (split the data between
        the instances of a distributed job). Default: replicated.
    """

    name: str
    source: Source
    content_type: str | None = None
    distribution: str = "FullyReplicated"

    def to_json(self) -> dict[str, Any]:
        channel: dict[str, Any] = {
            "ChannelName": self.name,
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": _uri(self.source),
                    "S3DataDistributionType": self.distribution,
                }
            },
        }
        if self.content_type:
            channel["ContentType"] = self.content_type
        return channel

    def grant(self, grantee: iam.IGrantable) -> None:
        _grant_source(self.source, grantee)


@dataclass(frozen=True)
class MetricDefinition:
    """A metric parsed from the training log by ``regex``."""

    name: str
    regex: str

    def to_json(self) -> dict[str, Any]:
        return {"Name": self.name, "Regex": self.regex}


@dataclass(frozen=True, kw_only=True)
class ManagedSpot:
    """Managed spot training: spare capacity at a discount (AWS quotes up to 90%).

    Spot instances can be reclaimed; the job resumes from its last checkpoint, so a
    checkpoint location is required.

    :param max_wait: how long to wait for capacity and run, at least the job's
        ``max_runtime``.
    :param checkpoints: where checkpoints are written (granted read and write).
    """

    max_wait: Duration
    checkpoints: LakeLocation


@dataclass(frozen=True, kw_only=True)
class TrainingJob(JobSecurity):
    """A training job (``CreateTrainingJob``) for a training step, or a tuning step's template.

    :param role: the job's execution role.
    :param image_uri: the algorithm container (:func:`sagemaker_lifecycle.images.image_uri`).
    :param output: where the model artifact goes; granted write.
    :param channels: input channels. Default: none.
    :param hyperparameters: values are sent as strings; expressions are converted.
        Default: none.
    :param instance_type: a ``TrainingInstanceType``. Default: ``ml.m5.xlarge``.
    :param instance_count: instances; more than one is distributed training.
        Default: 1.
    :param volume_size_gb: storage per instance. Default: 30.
    :param max_runtime: stop the job after this long. Default: two hours.
    :param spot: run on managed spot capacity. Default: on-demand.
    :param metric_definitions: metrics parsed from the log. Default: none (built-in
        algorithms publish their own).
    :param input_mode: ``File``, ``Pipe`` or ``FastFile``. Default: ``File``.
    :param overrides: raw ``CreateTrainingJob`` members merged over the typed ones.
    """

    role: iam.IRole
    image_uri: str | Expression
    output: Destination
    channels: Sequence[TrainingChannel] = ()
    hyperparameters: Mapping[str, Scalar] = field(default_factory=dict)
    instance_type: str | Expression = "ml.m5.xlarge"
    instance_count: int | Expression = 1
    volume_size_gb: int | Expression = 30
    max_runtime: Duration = field(default_factory=lambda: Duration.hours(2))
    spot: ManagedSpot | None = None
    metric_definitions: Sequence[MetricDefinition] = ()
    input_mode: str = "File"
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        errors = ValidationErrors("TrainingJob")
        _instance_type(errors, self.instance_type, "TrainingInstanceType")
        _check_count(errors, "instance_count", self.instance_count)
        _check_volume(errors, self.volume_size_gb)
        one_of(errors, "input_mode", self.input_mode, ("File", "Pipe", "FastFile"))
        runtime = _seconds(errors, "max_runtime", self.max_runtime)
        if self.spot is not None:
            wait = _seconds(errors, "spot.max_wait", self.spot.max_wait)
            errors.check(
                wait >= runtime,
                "spot.max_wait must be at least max_runtime "
                f"({self.max_runtime.to_human_string()}), "
                f"got {self.spot.max_wait.to_human_string()}",
            )
        names = [c.name for c in self.channels]
        errors.check(len(names) == len(set(names)), f"channel names must be unique, got {names}")
        errors.raise_if_any()

    def output_uri(self) -> str | Expression:
        if isinstance(self.output, LakeLocation):
            return self.output.uri
        return self.output

    def _hyperparameters(self) -> dict[str, Any]:
        return {
            name: value.to_string()
            if isinstance(value, Expression) and value.value_type != "string"
            else value
            if isinstance(value, Expression)
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
            for name, value in self.hyperparameters.items()
        }

    def definition(self) -> dict[str, Any]:
        """The members a training job and a tuning job's training definition share."""
        algorithm: dict[str, Any] = {
            "TrainingImage": self.image_uri,
            "TrainingInputMode": self.input_mode,
        }
        if self.metric_definitions:
            algorithm["MetricDefinitions"] = [m.to_json() for m in self.metric_definitions]
        stopping: dict[str, Any] = {"MaxRuntimeInSeconds": int(self.max_runtime.to_seconds())}
        job: dict[str, Any] = {
            "AlgorithmSpecification": algorithm,
            "RoleArn": self.role.role_arn,
            "OutputDataConfig": {"S3OutputPath": self.output_uri(), "KmsKeyId": self.key.key_arn},
            "ResourceConfig": {
                "InstanceType": self.instance_type,
                "InstanceCount": self.instance_count,
                "VolumeSizeInGB": self.volume_size_gb,
                **_volume_key(self.instance_type, self.key),
            },
            "StoppingCondition": stopping,
            "EnableNetworkIsolation": self.enable_network_isolation,
            "EnableInterContainerTrafficEncryption": self.encrypt_inter_container_traffic,
        }
        if self.channels:
            job["InputDataConfig"] = [c.to_json() for c in self.channels]
        if vpc := self.vpc_config():
            job["VpcConfig"] = vpc
        if self.spot is not None:
            job["EnableManagedSpotTraining"] = True
            stopping["MaxWaitTimeInSeconds"] = int(self.spot.max_wait.to_seconds())
            job["CheckpointConfig"] = {"S3Uri": self.spot.checkpoints.uri}
        return job

    def to_arguments(self) -> dict[str, Any]:
        """The step's ``Arguments`` (``CreateTrainingJob`` without the job name)."""
        arguments = self.definition()
        if self.hyperparameters:
            arguments["HyperParameters"] = self._hyperparameters()
        return _deep_merge(arguments, self.overrides)

    def grant_data_access(self) -> None:
        """Give the job role read on its channels, write on its output and checkpoints."""
        for channel in self.channels:
            channel.grant(self.role)
        if isinstance(self.output, LakeLocation):
            self.output.grant_write(self.role)
        if self.spot is not None:
            self.spot.checkpoints.grant_read(self.role)
            self.spot.checkpoints.grant_write(self.role)


# --- tuning --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ContinuousRange:
    """A real-valued hyperparameter searched between ``min_value`` and ``max_value``.

    :param scaling: ``Auto``, ``Linear``, ``Logarithmic`` or ``ReverseLogarithmic``.
    """

    name: str
    min_value: float
    max_value: float
    scaling: str = "Auto"

    def to_json(self) -> dict[str, Any]:
        return {
            "Name": self.name,
            "MinValue": str(self.min_value),
            "MaxValue": str(self.max_value),
            "ScalingType": self.scaling,
        }


@dataclass(frozen=True, kw_only=True)
class IntegerRange:
    """An integer hyperparameter searched between ``min_value`` and ``max_value``."""

    name: str
    min_value: int
    max_value: int
    scaling: str = "Auto"

    def to_json(self) -> dict[str, Any]:
        return {
            "Name": self.name,
            "MinValue": str(self.min_value),
            "MaxValue": str(self.max_value),
            "ScalingType": self.scaling,
        }


@dataclass(frozen=True, kw_only=True)
class CategoricalRange:
    """A hyperparameter chosen from ``values``."""

    name: str
    values: Sequence[str]

    def to_json(self) -> dict[str, Any]:
        return {"Name": self.name, "Values": list(self.values)}


ParameterRange = ContinuousRange | IntegerRange | CategoricalRange


@dataclass(frozen=True, kw_only=True)
class HyperparameterTuning:
    """A hyperparameter tuning job (``CreateHyperParameterTuningJob``) for a tuning step.

    :param training: the training job every trial runs; its hyperparameters are the static
        ones, ``ranges`` are searched.
    :param objective_metric: the metric to optimize, such as ``validation:auc``.
    :param ranges: the hyperparameters searched.
    :param objective: ``Maximize`` or ``Minimize``. Default: ``Maximize``.
    :param strategy: a ``HyperParameterTuningJobStrategyType``. Default: ``Bayesian``.
    :param max_jobs: training jobs in total. Default: 20.
    :param max_parallel_jobs: training jobs at once. Default: 2.
    :param early_stopping: ``Auto`` stops trials that are unlikely to beat the best one.
        Default: ``Auto``.
    """

    training: TrainingJob
    objective_metric: str
    ranges: Sequence[ParameterRange]
    objective: str = "Maximize"
    strategy: str = "Bayesian"
    max_jobs: int = 20
    max_parallel_jobs: int = 2
    early_stopping: str = "Auto"

    def __post_init__(self) -> None:
        errors = ValidationErrors("HyperparameterTuning")
        check_enum(errors, "strategy", self.strategy, "HyperParameterTuningJobStrategyType")
        check_enum(errors, "objective", self.objective, "HyperParameterTuningJobObjectiveType")
        check_enum(errors, "early_stopping", self.early_stopping, "TrainingJobEarlyStoppingType")
        errors.check(bool(self.ranges), "ranges must name at least one hyperparameter to search")
        names = [r.name for r in self.ranges]
        errors.check(len(names) == len(set(names)), f"range names must be unique, got {names}")
        clash = sorted(set(names) & set(self.training.hyperparameters))
        errors.check(not clash, f"ranges and static hyperparameters overlap: {clash}")
        for r in self.ranges:
            if isinstance(r, (ContinuousRange, IntegerRange)):
                errors.check(
                    r.min_value < r.max_value,
                    f"range '{r.name}' needs min_value < max_value, got "
                    f"{r.min_value} and {r.max_value}",
                )
        errors.check(
            1 <= self.max_parallel_jobs <= self.max_jobs,
            f"max_parallel_jobs must be from 1 to max_jobs ({self.max_jobs}), "
            f"got {self.max_parallel_jobs}",
        )
        errors.raise_if_any()

    def to_arguments(self) -> dict[str, Any]:
        """The step's ``Arguments`` (``CreateHyperParameterTuningJob`` without the name)."""
        ranges: dict[str, list[dict[str, Any]]] = {}
        for r in self.ranges:
            kind = {
                ContinuousRange: "ContinuousParameterRanges",
                IntegerRange: "IntegerParameterRanges",
                CategoricalRange: "CategoricalParameterRanges",
            }[type(r)]
            ranges.setdefault(kind, []).append(r.to_json())
        definition = self.training.definition()
        if self.training.hyperparameters:
            definition["StaticHyperParameters"] = self.training._hyperparameters()
        return _deep_merge(
            {
                "HyperParameterTuningJobConfig": {
                    "Strategy": self.strategy,
                    "HyperParameterTuningJobObjective": {
                        "Type": self.objective,
                        "MetricName": self.objective_metric,
                    },
                    "ResourceLimits": {
                        "MaxNumberOfTrainingJobs": self.max_jobs,
                        "MaxParallelTrainingJobs": self.max_parallel_jobs,
                    },
                    "ParameterRanges": ranges,
                    "TrainingJobEarlyStoppingType": self.early_stopping,
                },
                "TrainingJobDefinition": definition,
            },
            self.training.overrides,
        )


# --- models and batch transform ------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ModelDefinition(JobSecurity):
    """A SageMaker model (``CreateModel``) for a model step, for batch transform.

    Give ``image_uri`` and ``model_data_url``, or ``model_package_name`` alone.

    :param role: the role the model's container runs with.
    :param image_uri: the inference container. Default: none (with ``model_package_name``).
    :param model_data_url: the model artifact, usually a training step's
        ``ModelArtifacts.S3ModelArtifacts`` property. Default: none.
    :param model_package_name: a registered model version (ARN) whose inference
        specification gives the container and artifact. The pipeline role needs
        ``ModelRegistry.grant_deploy`` for it. Default: none (with ``image_uri``).
    :param environment: environment variables. Default: none.
    """

    role: iam.IRole
    image_uri: str | Expression | None = None
    model_data_url: str | Expression | None = None
    model_package_name: str | Expression | None = None
    environment: Mapping[str, str | Expression] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from_package = self.model_package_name is not None
        if from_package == (self.image_uri is not None) or (
            from_package and self.model_data_url is not None
        ):
            raise ValueError(
                "ModelDefinition: give image_uri (with model_data_url) or model_package_name "
                f"alone, got image_uri={self.image_uri!r}, model_data_url="
                f"{self.model_data_url!r}, model_package_name={self.model_package_name!r}"
            )

    def to_arguments(self) -> dict[str, Any]:
        container: dict[str, Any]
        if self.model_package_name is not None:
            container = {"ModelPackageName": self.model_package_name}
        else:
            container = {"Image": self.image_uri}
            if self.model_data_url is not None:
                container["ModelDataUrl"] = self.model_data_url
        if self.environment:
            container["Environment"] = dict(self.environment)
        arguments: dict[str, Any] = {
            "ExecutionRoleArn": self.role.role_arn,
            "PrimaryContainer": container,
            "EnableNetworkIsolation": self.enable_network_isolation,
        }
        if vpc := self.vpc_config():
            arguments["VpcConfig"] = vpc
        return arguments


@dataclass(frozen=True, kw_only=True)
class TransformJob:
    """A batch transform job (``CreateTransformJob``) for a transform step.

    :param model_name: the model, usually a model step's ``ModelName`` property.
    :param source: the input data; a :class:`LakeLocation` input is read by the model's role.
    :param output: where predictions go (a folder per execution for a LakeLocation).
    :param key: KMS key for the instance volumes and the output.
    :param content_type: the input MIME type. Default: ``text/csv``.
    :param split_type: how records are split: ``None``, ``Line``, ``RecordIO``, ``TFRecord``.
        Default: ``Line``.
    :param accept: the output MIME type. Default: ``text/csv``.
    :param instance_type: a ``TransformInstanceType``. Default: ``ml.m5.xlarge``.
    :param instance_count: instances. Default: 1.
    :param join_source: ``Input`` joins each prediction to its input record. Default: none.
    :param overrides: raw ``CreateTransformJob`` members merged over the typed ones.
    """

    model_name: str | Expression
    source: Source
    output: Destination
    key: kms.IKey
    content_type: str = "text/csv"
    split_type: str = "Line"
    accept: str = "text/csv"
    instance_type: str | Expression = "ml.m5.xlarge"
    instance_count: int | Expression = 1
    join_source: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        errors = ValidationErrors("TransformJob")
        _instance_type(errors, self.instance_type, "TransformInstanceType")
        _check_count(errors, "instance_count", self.instance_count)
        check_enum(errors, "split_type", self.split_type, "SplitType")
        if self.join_source is not None:
            check_enum(errors, "join_source", self.join_source, "JoinSource")
        errors.raise_if_any()

    def to_arguments(self) -> dict[str, Any]:
        output = (
            self.output.execution_uri("transform")
            if isinstance(self.output, LakeLocation)
            else self.output
        )
        arguments: dict[str, Any] = {
            "ModelName": self.model_name,
            "TransformInput": {
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": _uri(self.source)}
                },
                "ContentType": self.content_type,
                "SplitType": self.split_type,
            },
            "TransformOutput": {
                "S3OutputPath": output,
                "Accept": self.accept,
                "AssembleWith": "Line" if self.split_type == "Line" else "None",
                "KmsKeyId": self.key.key_arn,
            },
            "TransformResources": {
                "InstanceType": self.instance_type,
                "InstanceCount": self.instance_count,
                **_volume_key(self.instance_type, self.key),
            },
        }
        if self.join_source is not None:
            arguments["DataProcessing"] = {"JoinSource": self.join_source}
        return _deep_merge(arguments, self.overrides)

    def grant_data_access(self, model_role: iam.IGrantable) -> None:
        """Give the model's role read on the input and write on the output."""
        _grant_source(self.source, model_role)
        if isinstance(self.output, LakeLocation):
            self.output.grant_write(model_role)
