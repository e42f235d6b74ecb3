"""Typed jobs and steps: secure defaults, rendering, and one test per validation error."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from sagemaker_lifecycle import DataLake, Zone
from sagemaker_lifecycle.model_registry import ModelRegistry
from sagemaker_lifecycle.pipelines import (
    CacheConfig,
    CheckType,
    ConditionStep,
    ContinuousRange,
    HyperparameterTuning,
    LakeLocation,
    ManagedSpot,
    ParameterInteger,
    PipelineDefinition,
    ProcessingJob,
    ProcessingOutput,
    ProcessingStep,
    PropertyFile,
    QualityCheckStep,
    RegisterModelStep,
    RetryableError,
    RetryPolicy,
    TrainingChannel,
    TrainingJob,
    TrainingStep,
    TransformJob,
    TuningStep,
)
from tests.support import new_stack

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


@pytest.fixture(scope="module")
def env() -> dict[str, Any]:
    stack = new_stack()
    lake = DataLake(stack, "Lake")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    return {"stack": stack, "lake": lake, "role": role, "key": lake.key}


def _training(env: dict[str, Any], **props: Any) -> TrainingJob:
    options: dict[str, Any] = {
        "role": env["role"],
        "image_uri": IMAGE,
        "key": env["key"],
        "output": LakeLocation(env["lake"], Zone.ARTIFACTS, "models/"),
        "channels": [TrainingChannel(name="train", source="s3://bucket/train/")],
    }
    options.update(props)
    return TrainingJob(**options)


def _processing(env: dict[str, Any], **props: Any) -> ProcessingJob:
    options: dict[str, Any] = {"role": env["role"], "image_uri": IMAGE, "key": env["key"]}
    options.update(props)
    return ProcessingJob(**options)


def _resolve(env: dict[str, Any], value: Any) -> Any:
    stack: Stack = env["stack"]
    return stack.resolve(value)


def test_processing_jobs_are_isolated_encrypted_and_key_encrypted_by_default(
    env: dict[str, Any],
) -> None:
    job = _processing(
        env,
        outputs=[
            ProcessingOutput(name="out", source="/opt/ml/processing/out", destination="s3://b/o")
        ],
    )
    arguments = job.to_arguments()
    assert arguments["NetworkConfig"] == {
        "EnableNetworkIsolation": True,
        "EnableInterContainerTrafficEncryption": True,
    }
    key_arn = _resolve(env, env["key"].key_arn)
    assert (
        _resolve(env, arguments["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"])
        == key_arn
    )
    assert _resolve(env, arguments["ProcessingOutputConfig"]["KmsKeyId"]) == key_arn


def test_training_jobs_are_isolated_and_encrypted_by_default(env: dict[str, Any]) -> None:
    arguments = _training(env).to_arguments()
    assert arguments["EnableNetworkIsolation"] is True
    assert arguments["EnableInterContainerTrafficEncryption"] is True
    key_arn = _resolve(env, env["key"].key_arn)
    assert _resolve(env, arguments["ResourceConfig"]["VolumeKmsKeyId"]) == key_arn
    assert _resolve(env, arguments["OutputDataConfig"]["KmsKeyId"]) == key_arn
    assert "EnableManagedSpotTraining" not in arguments


def test_managed_spot_sets_max_wait_and_checkpoints_into_the_lake(env: dict[str, Any]) -> None:
    checkpoints = LakeLocation(env["lake"], Zone.ARTIFACTS, "checkpoints/")
    job = _training(
        env,
        instance_count=4,
        max_runtime=Duration.hours(1),
        spot=ManagedSpot(max_wait=Duration.hours(3), checkpoints=checkpoints),
    )
    arguments = job.to_arguments()
    assert arguments["EnableManagedSpotTraining"] is True
    assert arguments["StoppingCondition"] == {
        "MaxRuntimeInSeconds": 3600,
        "MaxWaitTimeInSeconds": 10800,
    }
    assert arguments["ResourceConfig"]["InstanceCount"] == 4
    assert (
        _resolve(env, arguments["CheckpointConfig"]["S3Uri"])["Fn::Join"][1][-1] == "/checkpoints"
    )


def test_hyperparameters_are_sent_as_strings(env: dict[str, Any]) -> None:
    depth = ParameterInteger("Depth", 6)
    arguments = _training(env, hyperparameters={"num_round": 100, "flag": True, "max_depth": depth})
    rendered = PipelineDefinition(
        steps=[TrainingStep("Train", arguments)], parameters=[depth]
    ).to_json()["Steps"][0]["Arguments"]["HyperParameters"]
    assert rendered == {
        "num_round": "100",
        "flag": "true",
        "max_depth": {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.Depth"}]}},
    }


def test_steps_render_cache_retry_and_dependencies(env: dict[str, Any]) -> None:
    first = ProcessingStep("First", _processing(env))
    second = TrainingStep(
        "Second",
        _training(env),
        depends_on=[first],
        cache=CacheConfig("P30D"),
        retry_policies=[RetryPolicy(errors=[RetryableError.CAPACITY_ERROR], max_attempts=3)],
    )
    entry = second.to_json()
    assert entry["DependsOn"] == ["First"]
    assert entry["CacheConfig"] == {"Enabled": True, "ExpireAfter": "P30D"}
    assert entry["RetryPolicies"] == [
        {
            "ExceptionType": ["SageMaker.CAPACITY_ERROR"],
            "IntervalSeconds": 1,
            "BackoffRate": 2.0,
            "MaxAttempts": 3,
        }
    ]
    assert PipelineDefinition(steps=[first, second]).validate() == []


def test_check_steps_render_their_drift_settings_and_validate(env: dict[str, Any]) -> None:
    registry = ModelRegistry(env["stack"], "Registry", model_package_group_name="churn")
    step = QualityCheckStep(
        "DataQuality",
        _processing(env),
        check_type=CheckType.DATA_QUALITY,
        registry=registry,
        register_new_baseline=True,
    )
    entry = step.to_json()
    assert entry["Type"] == "QualityCheck"
    assert entry["CheckType"] == "DATA_QUALITY"
    assert entry["ModelPackageGroupName"] == "churn"
    assert PipelineDefinition(steps=[step]).validate() == []
    with pytest.raises(ValueError, match="check_type must be one of DATA_QUALITY, MODEL_QUALITY"):
        QualityCheckStep("Bias", _processing(env), check_type=CheckType.DATA_BIAS)


def test_transform_jobs_encrypt_volumes_and_output(env: dict[str, Any]) -> None:
    job = TransformJob(
        model_name="churn-model", source="s3://b/in/", output="s3://b/out/", key=env["key"]
    )
    arguments = job.to_arguments()
    key_arn = _resolve(env, env["key"].key_arn)
    assert _resolve(env, arguments["TransformResources"]["VolumeKmsKeyId"]) == key_arn
    assert _resolve(env, arguments["TransformOutput"]["KmsKeyId"]) == key_arn


@pytest.mark.parametrize(
    ("instance_type", "path"),
    [
        ("ml.g5.xlarge", ("ResourceConfig",)),
        ("ml.p4d.24xlarge", ("ResourceConfig",)),
        ("ml.g5.xlarge", ("ProcessingResources", "ClusterConfig")),
        ("ml.g4dn.xlarge", ("TransformResources",)),
    ],
)
def test_local_nvme_instance_types_get_no_volume_key(
    env: dict[str, Any], instance_type: str, path: tuple[str, ...]
) -> None:
    # The job APIs reject VolumeKmsKeyId for instance types whose storage is local NVMe
    # (encrypted by the hardware); outputs stay KMS-encrypted.
    if path[0] == "ResourceConfig":
        arguments = _training(env, instance_type=instance_type).to_arguments()
    elif path[0] == "ProcessingResources":
        output = ProcessingOutput(
            name="out", source="/opt/ml/processing/out", destination="s3://b/o"
        )
        arguments = _processing(env, instance_type=instance_type, outputs=[output]).to_arguments()
    else:
        arguments = TransformJob(
            model_name="churn-model",
            source="s3://b/in/",
            output="s3://b/out/",
            key=env["key"],
            instance_type=instance_type,
        ).to_arguments()
    resources = arguments
    for part in path:
        resources = resources[part]
    assert resources["InstanceType"] == instance_type
    assert "VolumeKmsKeyId" not in resources
    assert "KmsKeyId" in str(arguments)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda e: _training(e, instance_type="ml.m5.lage"), "instance_type 'ml.m5.lage'"),
        (lambda e: _processing(e, instance_type="ml.t2.nano"), "instance_type 'ml.t2.nano'"),
        (lambda e: _training(e, instance_count=0), "instance_count must be a positive integer"),
        (lambda e: _training(e, volume_size_gb=0), "volume_size_gb must be an integer"),
        (lambda e: _training(e, input_mode="Stream"), "input_mode must be one of"),
        (lambda e: _processing(e, max_runtime=Duration.seconds(0)), "max_runtime must be at least"),
        (
            lambda e: _training(
                e,
                max_runtime=Duration.hours(2),
                spot=ManagedSpot(
                    max_wait=Duration.hours(1),
                    checkpoints=LakeLocation(e["lake"], Zone.ARTIFACTS, "c/"),
                ),
            ),
            "spot.max_wait must be at least max_runtime",
        ),
        (
            lambda e: TransformJob(
                model_name="m",
                source="s3://b/i",
                output="s3://b/o",
                key=e["key"],
                split_type="Lines",
            ),
            "split_type 'Lines'",
        ),
    ],
)
def test_invalid_job_props_are_rejected(env: dict[str, Any], build: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build(env)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"strategy": "Genetic"}, "strategy 'Genetic'"),
        ({"objective": "Maximise"}, "objective 'Maximise'"),
        ({"max_jobs": 2, "max_parallel_jobs": 3}, "max_parallel_jobs must be from 1 to max_jobs"),
        ({"ranges": []}, "ranges must name at least one"),
        (
            {"ranges": [ContinuousRange(name="eta", min_value=0.5, max_value=0.1)]},
            "range 'eta' needs min_value < max_value",
        ),
        (
            {"ranges": [ContinuousRange(name="num_round", min_value=1, max_value=2)]},
            "ranges and static hyperparameters overlap",
        ),
    ],
)
def test_invalid_tuning_props_are_rejected(
    env: dict[str, Any], props: dict[str, Any], message: str
) -> None:
    options: dict[str, Any] = {
        "training": _training(env, hyperparameters={"num_round": 10}),
        "objective_metric": "validation:auc",
        "ranges": [ContinuousRange(name="eta", min_value=0.1, max_value=0.5)],
    }
    options.update(props)
    with pytest.raises(ValueError, match=message):
        HyperparameterTuning(**options)


def test_a_tuning_step_validates_and_names_its_best_model(env: dict[str, Any]) -> None:
    tune = TuningStep(
        "Tune",
        HyperparameterTuning(
            training=_training(env),
            objective_metric="validation:auc",
            ranges=[ContinuousRange(name="eta", min_value=0.1, max_value=0.5)],
        ),
    )
    assert PipelineDefinition(steps=[tune]).validate() == []
    values = tune.best_model_uri().to_json()["Std:Join"]["Values"]
    assert values[1] == {"Get": "Steps.Tune.TrainingJobSummaries[0].TrainingJobName"}
    with pytest.raises(ValueError, match="rank must be from 0 to 49"):
        tune.best_model_uri(50)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda e: RetryPolicy(errors=[RetryableError.THROTTLING]), "exactly one of max_attempts"),
        (
            lambda e: RetryPolicy(errors=[RetryableError.THROTTLING], max_attempts=21),
            "max_attempts must be from 1 to 20",
        ),
        (lambda e: CacheConfig("30 days"), "ISO 8601 duration"),
        (lambda e: TrainingStep("bad name", _training(e)), "name must be 1 to 64 letters"),
        (lambda e: ParameterInteger("Depth", "6"), "default_value must be a integer"),
        (lambda e: ParameterInteger("bad name"), "name must be 1 to 64"),
        (lambda e: PropertyFile(name="R", output_name="o", path="/abs.json"), "relative"),
        (
            lambda e: ProcessingStep(
                "P",
                _processing(e),
                property_files=[PropertyFile(name="R", output_name="o", path="r.json")],
            ),
            "names output 'o'",
        ),
        (lambda e: ConditionStep("C", conditions=[], if_steps=[]), "conditions must not be empty"),
        (lambda e: LakeLocation(e["lake"], Zone.RAW, "/"), "jobs never get a whole zone"),
        (lambda e: LakeLocation(e["lake"], Zone.RAW, "a/*/b"), "without wildcards"),
    ],
)
def test_invalid_step_props_are_rejected(env: dict[str, Any], build: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build(env)


def test_register_model_rejects_an_unknown_approval_status(env: dict[str, Any]) -> None:
    registry = ModelRegistry(new_stack(), "Registry", model_package_group_name="churn")
    with pytest.raises(ValueError, match="approval_status 'Pending'"):
        RegisterModelStep(
            "Register", registry=registry, image_uri=IMAGE, model_data_url="s3://b/m.tar.gz",
            approval_status="Pending",
        )  # fmt: skip


def test_a_key_from_another_account_is_accepted_as_a_token(env: dict[str, Any]) -> None:
    key = kms.Key.from_key_arn(
        env["stack"], "Imported", "arn:aws:kms:us-east-1:111111111111:key/abcd"
    )
    job = _processing(env, key=key)
    assert job.to_arguments()["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"].endswith(
        "abcd"
    )
