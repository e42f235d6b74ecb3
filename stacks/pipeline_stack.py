"""The reference model-building pipelines: churn training, and the same with tuning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from sagemaker_lifecycle import DataLake, MlNetwork, Zone
from sagemaker_lifecycle._internal.assets import ASSET_EXCLUDES
from sagemaker_lifecycle.execution_roles import ExecutionRole, JobKind
from sagemaker_lifecycle.images import Framework, image_uri
from sagemaker_lifecycle.model_registry import ModelRegistry
from sagemaker_lifecycle.pipelines import (
    ConditionGreaterThanOrEqualTo,
    ConditionStep,
    ContinuousRange,
    FailStep,
    HyperparameterTuning,
    IntegerRange,
    Join,
    JsonGet,
    LakeLocation,
    ManagedSpot,
    MetricsReport,
    ParameterFloat,
    ParameterInteger,
    ParameterString,
    PipelineDefinition,
    ProcessingInput,
    ProcessingJob,
    ProcessingOutput,
    ProcessingStep,
    PropertyFile,
    RegisterModelStep,
    RetryableError,
    RetryPolicy,
    Step,
    TrainingChannel,
    TrainingJob,
    TrainingPipeline,
    TrainingStep,
    TuningStep,
)
from sagemaker_lifecycle.pipelines.expressions import Expression

SCRIPTS = Path(__file__).resolve().parent / "pipeline_scripts"
CODE_DIR = "/opt/ml/processing/input/code"
TARGET = "churn"
CATEGORICAL = ("contract", "region")
#: XGBoost settings the tuning variant does not search.
STATIC_HYPERPARAMETERS = {
    "objective": "binary:logistic",
    "eval_metric": "auc",
    "num_round": "200",
    "early_stopping_rounds": "10",
}
_RETRY_CAPACITY = RetryPolicy(
    errors=[RetryableError.CAPACITY_ERROR, RetryableError.RESOURCE_LIMIT],
    expire_after_minutes=120,
    interval_seconds=60,
)


class PipelineStack(Stack):
    """Preprocess -> train -> evaluate -> register if AUC is high enough, plus a baseline of
    the training data for drift monitoring; and a variant that tunes instead of training.

    :attr:`retraining_pipeline` is the pipeline the drift monitor starts.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        data_lake: DataLake,
        network: MlNetwork,
        registry: ModelRegistry,
        name_prefix: str = "churn",
        pipeline_name_prefix: str | None = None,
        schedule: str | None = "rate(7 days)",
        **kwargs: Any,
    ) -> None:
        """
        :param name_prefix: the model family; prefixes its data-lake keys. Default: churn.
        :param pipeline_name_prefix: prefixes the pipeline names, which are unique per
            account and region (for example ``"MlPlatform-dev-churn"``). Default:
            ``name_prefix``.
        :param schedule: when the training pipeline runs. Default: weekly.
        """
        super().__init__(scope, id, **kwargs)
        pipelines_prefix = pipeline_name_prefix or name_prefix
        self.data_lake = data_lake
        self.network = network
        self.registry = registry
        lake = data_lake
        self.raw = LakeLocation(lake, Zone.RAW, f"{name_prefix}/input/")
        self.prepared = LakeLocation(lake, Zone.CURATED, f"{name_prefix}/prepared/")
        self.models = LakeLocation(lake, Zone.ARTIFACTS, f"{name_prefix}/models/")
        self.evaluations = LakeLocation(lake, Zone.ARTIFACTS, f"{name_prefix}/evaluation/")
        self.checkpoints = LakeLocation(lake, Zone.ARTIFACTS, f"{name_prefix}/checkpoints/")
        self.baselines = LakeLocation(lake, Zone.MONITORING, f"{name_prefix}/baseline/")

        self.processing_role = ExecutionRole(
            self,
            "ProcessingRole",
            kind=JobKind.PROCESSING,
            key=lake.key,
            network=network,
            # Steps read what earlier steps wrote through properties, which carry no grant.
            read=[self.prepared, self.models],
        )
        self.training_role = ExecutionRole(
            self,
            "TrainingRole",
            kind=JobKind.TRAINING,
            key=lake.key,
            network=network,
            read=[self.prepared],
        )
        self.scripts = {
            name: s3_assets.Asset(
                self,
                f"{name.capitalize()}Script",
                path=str(SCRIPTS / f"{name}.py"),
                exclude=ASSET_EXCLUDES,
            )
            for name in ("preprocess", "evaluate", "baseline")
        }

        self.training_pipeline = TrainingPipeline(
            self,
            "TrainingPipeline",
            pipeline_name=f"{pipelines_prefix}-training",
            description="Churn model: preprocess, train XGBoost, evaluate, register if good",
            definition=self._definition(tuning=False),
            schedule=schedule,
        )
        self.tuning_pipeline = TrainingPipeline(
            self,
            "TuningPipeline",
            pipeline_name=f"{pipelines_prefix}-tuning",
            description="Churn model with Bayesian hyperparameter tuning instead of one training",
            definition=self._definition(tuning=True),
            alarm_topic=self.training_pipeline.alarm_topic,
        )
        #: The pipeline the drift -> retrain loop starts.
        self.retraining_pipeline = self.training_pipeline

    def _processing_job(self, script: str, framework: Framework, **props: Any) -> ProcessingJob:
        asset = self.scripts[script]
        return ProcessingJob(
            role=self.processing_role.role,
            image_uri=image_uri(self, framework),
            entrypoint=["python3", f"{CODE_DIR}/{asset.s3_object_key}"],
            key=self.data_lake.key,
            network=self.network,
            inputs=[
                ProcessingInput(name="code", source=asset, destination=CODE_DIR),
                *props.pop("inputs", ()),
            ],
            **props,
        )

    def _definition(self, *, tuning: bool) -> PipelineDefinition:
        auc_threshold = ParameterFloat(
            "MinimumAuc", 0.75, "Register the model only if its test AUC reaches this"
        )
        instance_type = ParameterString(
            "TrainingInstanceType", "ml.m5.xlarge", "Instance type of the training jobs"
        )
        max_depth = ParameterInteger("MaxDepth", 6, "XGBoost max_depth (training only)")

        preprocess = ProcessingStep(
            "Preprocess",
            self._processing_job(
                "preprocess",
                Framework.SKLEARN,
                arguments=["--target", TARGET, "--categorical", ",".join(CATEGORICAL)],
                inputs=[
                    ProcessingInput(
                        name="raw", source=self.raw, destination="/opt/ml/processing/input/data"
                    )
                ],
                outputs=[
                    ProcessingOutput(
                        name=part, source=f"/opt/ml/processing/{part}", destination=self.prepared
                    )
                    for part in ("train", "validation", "test", "baseline")
                ],
            ),
            retry_policies=[_RETRY_CAPACITY],
        )

        def prepared(part: str) -> Expression:
            return preprocess.properties.ProcessingOutputConfig.Outputs[part].S3Output.S3Uri

        baseline = ProcessingStep(
            "Baseline",
            self._processing_job(
                "baseline",
                Framework.SKLEARN,
                inputs=[
                    ProcessingInput(
                        name="baseline",
                        source=prepared("baseline"),
                        destination="/opt/ml/processing/input/baseline",
                    )
                ],
                outputs=[
                    ProcessingOutput(
                        name="statistics",
                        source="/opt/ml/processing/baseline",
                        destination=self.baselines,
                    )
                ],
            ),
            description="Training-data statistics the drift monitor compares requests with",
        )

        training = TrainingJob(
            role=self.training_role.role,
            image_uri=image_uri(self, Framework.XGBOOST),
            output=self.models,
            key=self.data_lake.key,
            network=self.network,
            instance_type=instance_type,
            channels=[
                TrainingChannel(name=part, source=prepared(part), content_type="text/csv")
                for part in ("train", "validation")
            ],
            hyperparameters=(
                dict(STATIC_HYPERPARAMETERS)
                if tuning
                else {**STATIC_HYPERPARAMETERS, "max_depth": max_depth, "eta": "0.2"}
            ),
            max_runtime=Duration.hours(1),
            spot=None
            if tuning
            else ManagedSpot(max_wait=Duration.hours(2), checkpoints=self.checkpoints),
        )
        model_step: Step
        if tuning:
            tune = TuningStep(
                "Tune",
                HyperparameterTuning(
                    training=training,
                    objective_metric="validation:auc",
                    objective="Maximize",
                    strategy="Bayesian",
                    ranges=[
                        IntegerRange(name="max_depth", min_value=3, max_value=10),
                        ContinuousRange(name="eta", min_value=0.05, max_value=0.5),
                        ContinuousRange(name="subsample", min_value=0.5, max_value=1.0),
                        ContinuousRange(name="min_child_weight", min_value=1.0, max_value=10.0),
                    ],
                    max_jobs=12,
                    max_parallel_jobs=3,
                ),
                retry_policies=[_RETRY_CAPACITY],
            )
            model_step, model_uri = tune, tune.best_model_uri()
        else:
            train = TrainingStep("Train", training, retry_policies=[_RETRY_CAPACITY])
            model_step, model_uri = train, train.properties.ModelArtifacts.S3ModelArtifacts

        report = PropertyFile(
            name="EvaluationReport", output_name="evaluation", path="evaluation.json"
        )
        evaluate = ProcessingStep(
            "Evaluate",
            self._processing_job(
                "evaluate",
                # Scoring needs the xgboost library, which the XGBoost image has.
                Framework.XGBOOST,
                inputs=[
                    ProcessingInput(
                        name="model", source=model_uri, destination="/opt/ml/processing/model"
                    ),
                    ProcessingInput(
                        name="test", source=prepared("test"), destination="/opt/ml/processing/test"
                    ),
                ],
                outputs=[
                    ProcessingOutput(
                        name="evaluation",
                        source="/opt/ml/processing/evaluation",
                        destination=self.evaluations,
                    )
                ],
            ),
            property_files=[report],
        )
        evaluation_uri = evaluate.properties.ProcessingOutputConfig.Outputs[
            "evaluation"
        ].S3Output.S3Uri
        statistics_uri = baseline.properties.ProcessingOutputConfig.Outputs[
            "statistics"
        ].S3Output.S3Uri
        register = RegisterModelStep(
            "Register",
            registry=self.registry,
            image_uri=image_uri(self, Framework.XGBOOST),
            model_data_url=model_uri,
            approval_status="PendingManualApproval",
            model_quality=MetricsReport(s3_uri=Join("/", [evaluation_uri, "evaluation.json"])),
            data_quality_statistics=MetricsReport(
                s3_uri=Join("/", [statistics_uri, "statistics.json"])
            ),
            model_package_description="Churn XGBoost model",
        )
        auc = JsonGet(evaluate.name, report, "binary_classification_metrics.auc.value")
        check = ConditionStep(
            "CheckAuc",
            conditions=[ConditionGreaterThanOrEqualTo(auc, auc_threshold)],
            if_steps=[register],
            else_steps=[
                FailStep(
                    "AucTooLow",
                    error_message=Join(" ", ["Test AUC is below MinimumAuc", auc_threshold]),
                )
            ],
        )
        parameters = [auc_threshold, instance_type] + ([] if tuning else [max_depth])
        return PipelineDefinition(
            parameters=parameters, steps=[preprocess, baseline, model_step, evaluate, check]
        )
