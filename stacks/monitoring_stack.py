"""The stage's monitoring: the churn real-time endpoint watched by the built-in monitor, the
lifecycle dashboard, and the drift -> retrain loop.

- ``ChurnMonitor``: every hour the built-in monitor compares the previous hour's captured
  requests with the training statistics of the newest approved model version (drift per
  feature, completeness, schema), watches bias of the predicted churn on a contract facet,
  and scores the predictions of the hour that ended a day ago against the churn labels the
  CRM uploads to ``ground-truth/churn/`` in the capture zone.
- ``RetrainingLoop``: drift or a quality drop starts the retraining pipeline, at most once a
  day; the new version waits for approval like any other.
- ``Dashboard``: endpoint traffic, latency and utilisation, drift, quality, bias, pipeline
  executions and the approval flow in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from constructs import Construct

from sagemaker_lifecycle import DataLake, MlNetwork, Zone
from sagemaker_lifecycle._internal.messaging import encrypted_topic, grant_service_publish
from sagemaker_lifecycle.model_approval_flow import ModelApprovalFlow
from sagemaker_lifecycle.model_registry import ModelRegistryBase
from sagemaker_lifecycle.monitoring import (
    Baseline,
    BiasMonitor,
    DataQualityMonitor,
    DriftRetrainingLoop,
    MlDashboard,
    ModelMonitor,
    ModelQualityMonitor,
)
from sagemaker_lifecycle.pipelines import LakeLocation, TrainingPipeline
from sagemaker_lifecycle.serving import RealtimeEndpoint

#: Capture-zone prefix the CRM uploads churn labels to (SageMaker's ground-truth format, by
#: upload hour; ``eventMetadata.eventId`` is the request's inference id).
CHURN_GROUND_TRUTH_PREFIX = "ground-truth/churn/"
#: Model inputs with their own drift alarm (the training data's column names).
CHURN_DRIFT_FEATURES = ("tenure_months", "contract", "region")
#: The sensitive group for bias: contract code 0 (month-to-month, see the training
#: pipeline's schema.json); the model sees integer codes, so the facet names one.
CHURN_BIAS_FACET = "contract=0"


class MonitoringStack(Stack):
    """Model monitoring, the drift -> retrain loop and the lifecycle dashboard of one stage.

    Takes the constructs it watches from the other stacks: the real-time endpoint (serving),
    the retraining pipeline and where it writes training statistics (pipelines), the model
    registry the monitor takes the approved version's baseline from (data), and optionally
    the approval flow and other training pipelines for the dashboard.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        data_lake: DataLake,
        network: MlNetwork,
        endpoint: RealtimeEndpoint,
        retraining_pipeline: TrainingPipeline,
        registry: ModelRegistryBase,
        baselines: LakeLocation,
        approval_flow: ModelApprovalFlow | None = None,
        training_pipelines: Sequence[TrainingPipeline] = (),
        monitor_name: str = "churn-realtime",
        cool_down: Duration = Duration.hours(24),
        **kwargs: Any,
    ) -> None:
        """
        :param baselines: where the retraining pipeline writes the statistics it registers
            with each version (``PipelineStack.baselines``).
        :param monitor_name: names the monitoring pipeline (``<name>-monitor``), unique per
            account and region (for example ``"MlPlatform-dev-churn"``). Default:
            ``churn-realtime``.
        :param cool_down: the least time between two retraining starts. Default: 24 hours.
        """
        super().__init__(scope, id, **kwargs)
        self.key = kms.Key(
            self,
            "Key",
            description="Encrypts the monitoring alarm topic, schedules and retraining queue",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.alarm_topic = encrypted_topic(
            self, "AlarmTopic", key=self.key, display_name="Model monitoring alarms"
        )
        for service in ("cloudwatch.amazonaws.com", "events.amazonaws.com"):
            grant_service_publish(self.alarm_topic, self.key, service)

        self.monitor = ModelMonitor(
            self,
            "ChurnMonitor",
            data_lake=data_lake,
            endpoint=endpoint,
            monitor_name=monitor_name,
            baseline=Baseline.from_registry(registry, statistics=baselines),
            data_quality=DataQualityMonitor(features=CHURN_DRIFT_FEATURES),
            model_quality=ModelQualityMonitor(
                ground_truth=LakeLocation(data_lake, Zone.CAPTURE, CHURN_GROUND_TRUTH_PREFIX),
                problem_type="binary_classification",
                ground_truth_delay=Duration.hours(24),
                # The retraining pipeline registers versions from a test AUC of 0.75.
                min_auc=0.75,
                min_recall=0.5,
            ),
            bias=BiasMonitor(facets=[CHURN_BIAS_FACET], dppl_threshold=0.1),
            schedule="hourly",
            network=network,
            alarm_topic=self.alarm_topic,
            key=self.key,
        )
        self.retraining_loop = DriftRetrainingLoop(
            self,
            "RetrainingLoop",
            retraining_pipeline=retraining_pipeline,
            monitors=[self.monitor],
            cool_down=cool_down,
            alarm_topic=self.alarm_topic,
            key=self.key,
        )
        self.dashboard = MlDashboard(
            self,
            "Dashboard",
            endpoints=[endpoint],
            monitors=[self.monitor],
            pipelines=[retraining_pipeline, *training_pipelines],
            approval_flows=[approval_flow] if approval_flow is not None else [],
            retraining_loops=[self.retraining_loop],
        )
