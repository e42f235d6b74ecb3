"""The stage's model serving: the churn model behind real-time, serverless and async endpoints,
and a nightly batch scoring of every customer.

All three endpoints start from the bootstrap model at :data:`BOOTSTRAP_MODEL_KEY` in the data
lake's artifacts zone; the approval flow then rolls each approved version onto the
real-time endpoint (:attr:`ServingStack.realtime_endpoint`). The object must exist before
the first deployment (upload the first trained ``model.tar.gz`` there, for example the
training pipeline's first output): SageMaker downloads it while CloudFormation creates the
endpoints, and a missing object fails and rolls back the stack. The batch scoring creates
its model from the same object at every run.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from constructs import Construct

from sagemaker_lifecycle import DataLake, MlNetwork, Zone
from sagemaker_lifecycle._internal.messaging import encrypted_topic, grant_service_publish
from sagemaker_lifecycle.images import Framework
from sagemaker_lifecycle.pipelines import LakeLocation
from sagemaker_lifecycle.serving import (
    AsyncEndpoint,
    AsyncScaling,
    AutoScaling,
    DataCapture,
    DeploymentGuardrails,
    InferenceImage,
    ModelSource,
    ProductionVariant,
    RealtimeEndpoint,
    ScheduledBatchInference,
    ScheduledScaling,
    ServerlessEndpoint,
    TrafficShifting,
    TransformSettings,
)

#: Artifacts-zone prefix of every churn model version (the endpoints' roles may read it).
CHURN_MODELS_PREFIX = "models/churn/"
#: The model the endpoints are created with, before the first approved version.
BOOTSTRAP_MODEL_KEY = f"{CHURN_MODELS_PREFIX}bootstrap/model.tar.gz"
#: Curated-zone prefix of the customers to score each night: headerless CSV files whose
#: first column is the customer id, followed by the model's features in training order.
CHURN_BATCH_INPUT_PREFIX = "batch/churn/input/"
#: Curated-zone prefix of the scores: ``<execution id>/transform/<file>.out``, one
#: ``customer_id,score`` line per input line.
CHURN_BATCH_PREDICTIONS_PREFIX = "batch/churn/predictions/"


class ServingStack(Stack):
    """The churn model served three ways, sharing one key and one alarm topic.

    - ``ChurnRealtime``: two to six ml.m5.large instances in the ML network for the CRM's
      online scoring, canary deployments with automatic rollback, every request captured.
    - ``ChurnServerless``: per-request billing for occasional scoring from back-office tools
      (serverless endpoints run outside any VPC).
    - ``ChurnAsync``: queued scoring of large payloads, scaled to zero when idle.
    - ``ChurnBatchScoring``: every customer scored at 02:00 Paris time by a batch transform
      pipeline, for the next day's retention campaigns; failed runs notify the alarm topic.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        data_lake: DataLake,
        network: MlNetwork,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.key = kms.Key(
            self,
            "Key",
            description="Encrypts the serving endpoints' volumes, logs and topics",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.alarm_topic = encrypted_topic(
            self, "AlarmTopic", key=self.key, display_name="Serving alarms"
        )
        grant_service_publish(self.alarm_topic, self.key, "cloudwatch.amazonaws.com")
        model = ModelSource.from_artifacts(
            InferenceImage.from_framework(self, Framework.XGBOOST), BOOTSTRAP_MODEL_KEY
        )
        shared: dict[str, Any] = {
            "model_source": model,
            "data_lake": data_lake,
            "key": self.key,
            "alarm_topic": self.alarm_topic,
            "artifacts_read_prefix": CHURN_MODELS_PREFIX,
        }
        self.realtime_endpoint = RealtimeEndpoint(
            self,
            "ChurnRealtime",
            network=network,
            variants=[
                ProductionVariant(
                    instance_type="ml.m5.large",
                    initial_instance_count=2,
                    autoscaling=AutoScaling(
                        min_capacity=2,
                        max_capacity=6,
                        invocations_per_instance=300,
                        schedules=(
                            ScheduledScaling(
                                "BusinessHours",
                                "cron(0 7 ? * MON-FRI *)",
                                min_capacity=3,
                                time_zone="Europe/Paris",
                            ),
                            ScheduledScaling(
                                "Evenings",
                                "cron(0 20 ? * MON-FRI *)",
                                min_capacity=2,
                                time_zone="Europe/Paris",
                            ),
                        ),
                    ),
                )
            ],
            data_capture=DataCapture(sampling_percentage=100),
            guardrails=DeploymentGuardrails(
                traffic_shifting=TrafficShifting.canary(
                    instances=1, wait_interval=Duration.minutes(10)
                ),
                termination_wait=Duration.minutes(10),
                maximum_execution_timeout=Duration.hours(1),
            ),
            **shared,
        )
        self.serverless_endpoint = ServerlessEndpoint(
            self,
            "ChurnServerless",
            memory_size_mb=2048,
            max_concurrency=10,
            **shared,
        )
        self.async_endpoint = AsyncEndpoint(
            self,
            "ChurnAsync",
            network=network,
            max_concurrent_invocations_per_instance=4,
            scaling=AsyncScaling(min_capacity=0, max_capacity=2, backlog_per_instance=10),
            **shared,
        )
        self.batch_inference = ScheduledBatchInference(
            self,
            "ChurnBatchScoring",
            # Pipeline names are unique per account and region, as stack names are.
            pipeline_name=f"{self.stack_name}-churn-batch",
            source=LakeLocation(data_lake, Zone.CURATED, CHURN_BATCH_INPUT_PREFIX),
            output=LakeLocation(data_lake, Zone.CURATED, CHURN_BATCH_PREDICTIONS_PREFIX),
            schedule="cron(0 2 * * ? *)",
            schedule_time_zone="Europe/Paris",
            settings=TransformSettings(
                instance_type="ml.m5.xlarge",
                instance_count=2,
                # The model sees the features only; each score is written back beside the
                # customer id it belongs to.
                input_filter="$[1:]",
                join_source="Input",
                output_filter="$[0,-1]",
            ),
            network=network,
            **shared,
        )
