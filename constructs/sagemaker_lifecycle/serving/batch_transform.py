"""Batch transform for SageMaker pipelines: a typed, secure transform step over data-lake
locations.

:class:`TransformSettings` holds every ``CreateTransformJob`` option that shapes the job
(instance type and count, how records are split, batched and reassembled, payload and
concurrency limits, the data-processing filters), validated against the SageMaker API model
and the limits its documentation states. :class:`BatchTransformStep` is a pipelines
:class:`~sagemaker_lifecycle.pipelines.TransformStep` built from those settings and
:class:`~sagemaker_lifecycle.pipelines.LakeLocation` s: it reads one data-lake prefix, writes
predictions (and optionally captured requests) into a folder per pipeline execution, encrypts
them and the instance volumes with KMS, and grants the model's role exactly that.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from aws_cdk import Duration, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from sagemaker_lifecycle._internal.instance_types import has_local_instance_storage
from sagemaker_lifecycle._internal.sagemaker_api import check_enum, shape
from sagemaker_lifecycle._internal.validation import ValidationErrors, int_in_range
from sagemaker_lifecycle.pipelines.expressions import Expression
from sagemaker_lifecycle.pipelines.jobs import TransformJob
from sagemaker_lifecycle.pipelines.locations import LakeLocation
from sagemaker_lifecycle.pipelines.steps import (
    CacheConfig,
    ModelStep,
    RetryPolicy,
    Step,
    TransformStep,
)
from sagemaker_lifecycle.serving._checks import seconds_in_range

#: CreateTransformJob's documentation: "The value of MaxPayloadInMB cannot be greater than
#: 100 MB", nor MaxConcurrentTransforms x MaxPayloadInMB. botocore only states a minimum.
MAX_PAYLOAD_MB: Final = 100
#: TransformResources.InstanceCount: "the maximum is 100" (botocore only states min 1).
MAX_INSTANCE_COUNT: Final = 100
#: Input formats the data-processing filters and JoinSource work on ("You can use input
#: files in JSON and CSV format only": SageMaker Developer Guide, "Associate Prediction
#: Results with Input Records").
DATA_PROCESSING_CONTENT_TYPES: Final = frozenset(
    {"text/csv", "application/json", "application/jsonlines", "application/x-jsonlines"}
)

# type/subtype, optionally followed by parameters ("text/csv; charset=utf-8").
_MIME = re.compile(r"^[A-Za-z0-9][\w!#$&^.+-]*/[A-Za-z0-9][\w!#$&^.+-]*(\s*;.*)?$")


def _shape_limit(shape_name: str, limit: str) -> int:
    value = shape(shape_name).metadata[limit]
    assert isinstance(value, int)
    return value


@dataclass(frozen=True, kw_only=True)
class TransformSettings:
    """How a batch transform job runs, validated when created.

    :param instance_type: a ``TransformInstanceType`` of the SageMaker API. Types with NVMe
        instance storage (``ml.g4dn``, ``ml.g5``, ...) get no volume KMS key: the API
        rejects one for them, and a hardware module encrypts that storage instead.
        Default: ``ml.m5.xlarge``.
    :param instance_count: instances, 1 to 100, or an integer pipeline parameter.
        Default: 1.
    :param content_type: MIME type of the input records. Default: ``text/csv``.
    :param accept: MIME type of the predictions. Default: ``text/csv``.
    :param split_type: how input files are cut into records: ``None`` (one request per
        file), ``Line``, ``RecordIO`` or ``TFRecord``. Default: ``Line``.
    :param assemble_with: how predictions are written back: ``Line`` (one per line) or
        ``None`` (concatenated). Default: ``Line`` when ``split_type`` is ``Line``, else
        ``None``.
    :param batch_strategy: ``MultiRecord`` (as many records per request as fit in
        ``max_payload_mb``) or ``SingleRecord``; needs a ``split_type`` other than ``None``.
        Default: ``MultiRecord`` when records are split, unset otherwise.
    :param max_payload_mb: largest request, 0 to 100 MB; 0 streams with chunked encoding,
        which the built-in algorithms do not support. Default: 6.
    :param max_concurrent_transforms: parallel requests per instance; with
        ``max_payload_mb`` at most 100 MB in flight. Default: unset (the container's
        ``execution-parameters``, else 1).
    :param compression_type: ``None`` or ``Gzip`` input. Default: ``None``.
    :param input_filter: JSONPath of the part of each record the model gets, such as
        ``$[1:]`` to drop an id column (CSV and JSON only). Default: the whole record.
    :param output_filter: JSONPath of the part of the (joined) record written out, such as
        ``$[0,-1]`` for the id and the prediction. Default: everything.
    :param join_source: ``Input`` writes each prediction after its input record (CSV) or
        into it as ``SageMakerOutput`` (JSON). Default: predictions only.
    :param environment: container environment, at most 16 variables; never secrets.
        Default: none.
    :param invocations_timeout: how long one request may take, 1 second to 1 hour.
        Default: SageMaker's 600 seconds.
    :param invocations_max_retries: retries of a failed request, 0 to 3. Default:
        SageMaker's 3.
    """

    instance_type: str = "ml.m5.xlarge"
    instance_count: int | Expression = 1
    content_type: str = "text/csv"
    accept: str = "text/csv"
    split_type: str = "Line"
    assemble_with: str | None = None
    batch_strategy: str | None = None
    max_payload_mb: int = 6
    max_concurrent_transforms: int | None = None
    compression_type: str = "None"
    input_filter: str | None = None
    output_filter: str | None = None
    join_source: str | None = None
    environment: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    invocations_timeout: Duration | None = None
    invocations_max_retries: int | None = None

    def __post_init__(self) -> None:
        errors = ValidationErrors("TransformSettings")
        check_enum(errors, "instance_type", self.instance_type, "TransformInstanceType")
        if not isinstance(self.instance_count, Expression):
            int_in_range(
                errors, "instance_count", self.instance_count, minimum=1, maximum=MAX_INSTANCE_COUNT
            )
        check_enum(errors, "split_type", self.split_type, "SplitType")
        check_enum(errors, "compression_type", self.compression_type, "CompressionType")
        if self.assemble_with is not None:
            check_enum(errors, "assemble_with", self.assemble_with, "AssemblyType")
        if self.batch_strategy is not None:
            check_enum(errors, "batch_strategy", self.batch_strategy, "BatchStrategy")
            errors.check(
                self.split_type != "None",
                f"batch_strategy {self.batch_strategy!r} needs split_type Line, RecordIO or "
                "TFRecord: with split_type 'None' every file is one request",
            )
        if self.join_source is not None:
            check_enum(errors, "join_source", self.join_source, "JoinSource")
        self._check_mime_types(errors)
        self._check_payload(errors)
        self._check_data_processing(errors)
        self._check_environment(errors)
        if self.invocations_timeout is not None:
            seconds_in_range(
                errors,
                "invocations_timeout",
                self.invocations_timeout,
                minimum=_shape_limit("InvocationsTimeoutInSeconds", "min"),
                maximum=_shape_limit("InvocationsTimeoutInSeconds", "max"),
            )
        if self.invocations_max_retries is not None:
            int_in_range(
                errors,
                "invocations_max_retries",
                self.invocations_max_retries,
                minimum=_shape_limit("InvocationsMaxRetries", "min"),
                maximum=_shape_limit("InvocationsMaxRetries", "max"),
            )
        errors.raise_if_any()

    def _check_mime_types(self, errors: ValidationErrors) -> None:
        limit = _shape_limit("ContentType", "max")
        for prop, value in (("content_type", self.content_type), ("accept", self.accept)):
            if Token.is_unresolved(value):
                continue
            errors.check(
                isinstance(value, str) and len(value) <= limit and bool(_MIME.match(value)),
                f"{prop} must be a MIME type such as 'text/csv' or 'application/jsonlines' "
                f"(at most {limit} characters), got {value!r}",
            )

    def _check_payload(self, errors: ValidationErrors) -> None:
        int_in_range(
            errors, "max_payload_mb", self.max_payload_mb, minimum=0, maximum=MAX_PAYLOAD_MB
        )
        if self.max_concurrent_transforms is None:
            return
        int_in_range(
            errors,
            "max_concurrent_transforms",
            self.max_concurrent_transforms,
            minimum=1,
            maximum=MAX_PAYLOAD_MB,
        )
        if isinstance(self.max_payload_mb, int) and isinstance(self.max_concurrent_transforms, int):
            in_flight = self.max_concurrent_transforms * self.max_payload_mb
            errors.check(
                in_flight <= MAX_PAYLOAD_MB,
                f"max_concurrent_transforms x max_payload_mb must be at most {MAX_PAYLOAD_MB} "
                f"MB, got {self.max_concurrent_transforms} x {self.max_payload_mb} = "
                f"{in_flight} MB",
            )

    def _check_data_processing(self, errors: ValidationErrors) -> None:
        limit = _shape_limit("JsonPath", "max")
        for prop, value in (
            ("input_filter", self.input_filter),
            ("output_filter", self.output_filter),
        ):
            if value is None or Token.is_unresolved(value):
                continue
            errors.check(
                isinstance(value, str) and value.startswith("$") and len(value) <= limit,
                f"{prop} must be a JSONPath starting with '$' of at most {limit} characters "
                f"(such as '$[1:]' or \"$['id','SageMakerOutput']\"), got {value!r}",
            )
        if not self.data_processing or Token.is_unresolved(self.content_type):
            return
        base = self.content_type.split(";", 1)[0].strip().lower()
        errors.check(
            base in DATA_PROCESSING_CONTENT_TYPES,
            "input_filter, output_filter and join_source work on CSV and JSON input only: "
            f"content_type must be one of {', '.join(sorted(DATA_PROCESSING_CONTENT_TYPES))}, "
            f"got {self.content_type!r}",
        )

    def _check_environment(self, errors: ValidationErrors) -> None:
        env_map = shape("TransformEnvironmentMap")
        most = env_map.metadata["max"]
        errors.check(
            len(self.environment) <= most,
            f"environment may hold at most {most} variables, got {len(self.environment)}",
        )
        name_pattern = re.compile(env_map.key.metadata["pattern"])  # type: ignore[attr-defined]
        value_limit = env_map.value.metadata["max"]  # type: ignore[attr-defined]
        for name, value in self.environment.items():
            errors.check(
                bool(name_pattern.fullmatch(name)),
                f"environment variable name {name!r} must be letters, digits and _ and not "
                "start with a digit",
            )
            errors.check(
                len(value) <= value_limit,
                f"environment variable {name!r} must be at most {value_limit} characters",
            )

    @property
    def effective_assemble_with(self) -> str:
        """``AssembleWith`` as sent: the prop, or ``Line`` for line-split input."""
        if self.assemble_with is not None:
            return self.assemble_with
        return "Line" if self.split_type == "Line" else "None"

    @property
    def effective_batch_strategy(self) -> str | None:
        """``BatchStrategy`` as sent: the prop, or ``MultiRecord`` when records are split."""
        if self.batch_strategy is not None:
            return self.batch_strategy
        return None if self.split_type == "None" else "MultiRecord"

    @property
    def data_processing(self) -> dict[str, str]:
        """``DataProcessing`` as sent (empty when no filter or join is set)."""
        processing: dict[str, str] = {}
        if self.input_filter is not None:
            processing["InputFilter"] = self.input_filter
        if self.output_filter is not None:
            processing["OutputFilter"] = self.output_filter
        if self.join_source is not None:
            processing["JoinSource"] = self.join_source
        return processing

    @property
    def encrypts_volume(self) -> bool:
        """Whether the instance volumes take a KMS key (false for NVMe instance storage)."""
        return not has_local_instance_storage(self.instance_type)


@dataclass(frozen=True, kw_only=True)
class _LakeTransformJob(TransformJob):
    """A :class:`TransformJob` rendering every :class:`TransformSettings` member; predictions
    are encrypted with the output lake's key, volumes with ``volume_key``."""

    settings: TransformSettings
    readable: LakeLocation
    volume_key: kms.IKey | None
    capture: LakeLocation | None = None

    def to_arguments(self) -> dict[str, Any]:
        arguments = super().to_arguments()
        settings = self.settings
        transform_input: dict[str, Any] = arguments["TransformInput"]
        transform_input["CompressionType"] = settings.compression_type
        arguments["TransformOutput"]["AssembleWith"] = settings.effective_assemble_with
        resources: dict[str, Any] = arguments["TransformResources"]
        if self.volume_key is None:
            # TransformJob already leaves the key out for instance types with local storage.
            resources.pop("VolumeKmsKeyId", None)
        else:
            resources["VolumeKmsKeyId"] = self.volume_key.key_arn
        if strategy := settings.effective_batch_strategy:
            arguments["BatchStrategy"] = strategy
        arguments["MaxPayloadInMB"] = settings.max_payload_mb
        if settings.max_concurrent_transforms is not None:
            arguments["MaxConcurrentTransforms"] = settings.max_concurrent_transforms
        if settings.data_processing:
            arguments["DataProcessing"] = settings.data_processing
        if settings.environment:
            arguments["Environment"] = dict(settings.environment)
        client: dict[str, Any] = {}
        if settings.invocations_timeout is not None:
            client["InvocationsTimeoutInSeconds"] = int(settings.invocations_timeout.to_seconds())
        if settings.invocations_max_retries is not None:
            client["InvocationsMaxRetries"] = settings.invocations_max_retries
        if client:
            arguments["ModelClientConfig"] = client
        if self.capture is not None:
            arguments["DataCaptureConfig"] = {
                "DestinationS3Uri": self.capture.execution_uri("capture"),
                "KmsKeyId": self.capture.data_lake.key.key_arn,
                "GenerateInferenceId": True,
            }
        return arguments

    def grant_data_access(self, model_role: iam.IGrantable) -> None:
        self.readable.grant_read(model_role)
        if isinstance(self.output, LakeLocation):
            self.output.grant_write(model_role)
        if self.capture is not None:
            self.capture.grant_write(model_role)
        if self.volume_key is not None:
            iam.Grant.add_to_principal(
                grantee=model_role,
                actions=["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
                resource_arns=[self.volume_key.key_arn],
            )
            # The instances' encrypted volumes are attached through a KMS grant.
            iam.Grant.add_to_principal(
                grantee=model_role,
                actions=["kms:CreateGrant"],
                resource_arns=[self.volume_key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            )


class BatchTransformStep(TransformStep):
    """A pipeline transform step over data-lake locations, secure by default.

    The job reads every object under ``source`` (or the run-time ``source_uri`` inside it),
    writes predictions to ``<output>/<execution id>/transform/`` so that runs never
    overwrite each other, encrypts them with the output lake's key and the instance volumes
    with ``key``, and runs with the model's role, which is granted read on ``source``,
    write on ``output`` (and ``data_capture``) and use of the keys, nothing more.

    :param name: the step's name in the pipeline.
    :param model: the model: a :class:`~sagemaker_lifecycle.pipelines.ModelStep` of the
        same pipeline (its ``ModelName`` property, and its role as ``model_role``), or the
        name of a model that exists when the pipeline runs.
    :param source: the data-lake prefix the job reads.
    :param output: the data-lake prefix predictions go under.
    :param settings: how the job runs. Default: :class:`TransformSettings` defaults (one
        ml.m5.xlarge, CSV lines in and out).
    :param source_uri: what the job reads when it is not all of ``source``, such as a
        pipeline parameter naming one day's folder; the model role still reads only under
        ``source``. Default: every object under ``source``.
    :param data_capture: also capture inputs and predictions, with an inference id, into
        ``<data_capture>/<execution id>/capture/`` for model monitoring. Default: off.
    :param key: KMS key of the instance volumes. Default: the output lake's key.
    :param model_role: the role of the model (transform jobs run with it). Required when
        ``model`` is a name. Default: the model step's role.
    """

    def __init__(
        self,
        name: str,
        *,
        model: ModelStep | str | Expression,
        source: LakeLocation,
        output: LakeLocation,
        settings: TransformSettings = TransformSettings(),
        source_uri: str | Expression | None = None,
        data_capture: LakeLocation | None = None,
        key: kms.IKey | None = None,
        model_role: iam.IGrantable | None = None,
        cache: CacheConfig | None = None,
        retry_policies: Sequence[RetryPolicy] = (),
        depends_on: Sequence[Step | str] = (),
        display_name: str | None = None,
        description: str | None = None,
    ) -> None:
        errors = ValidationErrors(f"BatchTransformStep {name!r}")
        if isinstance(model, ModelStep):
            model_name: str | Expression = model.properties.ModelName
            model_role = model_role or model.model.role
        else:
            model_name = model
            errors.check(
                model_role is not None,
                "model_role is required when model is a model name: the transform job runs "
                "with that model's role, which must be granted the input and output",
            )
        errors.check(
            isinstance(settings, TransformSettings),
            f"settings must be a TransformSettings, got {type(settings).__name__}",
        )
        locations = {"source": source, "output": output, "data_capture": data_capture}
        for prop, location in locations.items():
            errors.check(
                location is None or isinstance(location, LakeLocation),
                f"{prop} must be a LakeLocation (a data-lake zone and prefix), got {location!r}",
            )
        if all(isinstance(v, LakeLocation | None) for v in locations.values()):
            check_disjoint(errors, "output", output, source)
            if data_capture is not None:
                check_disjoint(errors, "data_capture", data_capture, source)
        errors.raise_if_any()
        volume_key = (key or output.data_lake.key) if settings.encrypts_volume else None
        job = _LakeTransformJob(
            model_name=model_name,
            source=source if source_uri is None else source_uri,
            output=output,
            key=output.data_lake.key,
            content_type=settings.content_type,
            split_type=settings.split_type,
            accept=settings.accept,
            instance_type=settings.instance_type,
            instance_count=settings.instance_count,
            settings=settings,
            readable=source,
            volume_key=volume_key,
            capture=data_capture,
        )
        super().__init__(
            name,
            job,
            model_role=model_role,
            cache=cache,
            retry_policies=retry_policies,
            depends_on=depends_on,
            display_name=display_name,
            description=description,
        )
        self.settings = settings
        self.source = source
        self.output = output
        self.data_capture = data_capture
        #: The volume key, or None for instance types with NVMe instance storage.
        self.volume_key = volume_key


def check_disjoint(
    errors: ValidationErrors, prop: str, location: LakeLocation, source: LakeLocation
) -> None:
    """Report ``location`` if it lies inside ``source`` or holds it: a job writing there
    would read what earlier runs wrote."""
    if location.data_lake is not source.data_lake or location.zone is not source.zone:
        return
    mine, theirs = f"{location.key_prefix}/", f"{source.key_prefix}/"
    errors.check(
        not (mine.startswith(theirs) or theirs.startswith(mine)),
        f"{prop} prefix {location.prefix!r} overlaps the source prefix {source.prefix!r} in "
        f"the {source.zone.value} zone: each run would read what earlier runs wrote",
    )
