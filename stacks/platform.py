"""Builds every stage of the reference platform into an app."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import App, Environment, Stack

from sagemaker_lifecycle import add_compliance_checks, apply_lifecycle_tags
from stacks.approval_stack import ApprovalStack
from stacks.config import AppConfig, StageConfig
from stacks.data_stack import DataStack
from stacks.feature_stack import FeatureStack
from stacks.monitoring_stack import MonitoringStack
from stacks.network_stack import NetworkStack
from stacks.pipeline_stack import PipelineStack
from stacks.serving_stack import ServingStack
from stacks.studio_stack import StudioStack


@dataclass(frozen=True)
class PlatformStage:
    """The stacks of one stage, for composition and tests."""

    config: StageConfig
    network: NetworkStack
    data: DataStack
    features: FeatureStack
    pipelines: PipelineStack
    serving: ServingStack
    approval: ApprovalStack
    monitoring: MonitoringStack
    studio: StudioStack

    @property
    def stacks(self) -> tuple[Stack, ...]:
        return (
            self.network,
            self.data,
            self.features,
            self.pipelines,
            self.serving,
            self.approval,
            self.monitoring,
            self.studio,
        )


def build_platform(app: App, config: AppConfig) -> list[PlatformStage]:
    """Add the compliance gates and one set of stacks per configured stage to ``app``.

    Stacks are created directly under the app (not in a ``Stage``) so that
    ``cdk.out/<stack>.template.json`` holds every template.
    """
    add_compliance_checks(app)
    return [_build_stage(app, config.project, stage) for stage in config.stages]


def _build_stage(app: App, project: str, stage: StageConfig) -> PlatformStage:
    env = (
        Environment(account=stage.account, region=stage.region)
        if stage.account is not None
        else None
    )
    prefix = f"{project}-{stage.name}"
    network = NetworkStack(
        app,
        f"{prefix}-Network",
        config=stage.network,
        env=env,
        description=f"{project} {stage.name}: private ML network (VPC endpoints, flow logs)",
    )
    data = DataStack(
        app,
        f"{prefix}-Data",
        config=stage.data,
        # Model package group names are unique per account and region.
        model_package_group_name=f"{prefix}-churn",
        env=env,
        description=f"{project} {stage.name}: KMS-encrypted data lake and model registry",
    )
    features = FeatureStack(
        app,
        f"{prefix}-Features",
        data_lake=data.data_lake,
        # Feature group and workgroup names are unique per account and region.
        name_prefix=f"{prefix}-".lower(),
        env=env,
        description=f"{project} {stage.name}: Feature Store groups and their Athena workgroup",
    )
    pipelines = PipelineStack(
        app,
        f"{prefix}-Pipelines",
        data_lake=data.data_lake,
        network=network.network,
        registry=data.registry,
        # Pipeline names are unique per account and region.
        pipeline_name_prefix=f"{prefix}-churn",
        env=env,
        description=f"{project} {stage.name}: churn training and tuning pipelines",
    )
    serving = ServingStack(
        app,
        f"{prefix}-Serving",
        data_lake=data.data_lake,
        network=network.network,
        env=env,
        description=(
            f"{project} {stage.name}: real-time, serverless and async churn endpoints "
            "and nightly batch scoring"
        ),
    )
    approval = ApprovalStack(
        app,
        f"{prefix}-Approval",
        registry=data.registry,
        endpoint_name=serving.realtime_endpoint.endpoint_name,
        deployment_spec=serving.realtime_endpoint.deployment_spec,
        network=network.network,
        env=env,
        description=f"{project} {stage.name}: model approval flow (approve -> deploy)",
    )
    monitoring = MonitoringStack(
        app,
        f"{prefix}-Monitoring",
        data_lake=data.data_lake,
        network=network.network,
        endpoint=serving.realtime_endpoint,
        retraining_pipeline=pipelines.retraining_pipeline,
        registry=data.registry,
        baselines=pipelines.baselines,
        approval_flow=approval.approval_flow,
        training_pipelines=[pipelines.training_pipeline, pipelines.tuning_pipeline],
        # The monitoring pipeline's name is unique per account and region.
        monitor_name=f"{prefix}-churn",
        env=env,
        description=f"{project} {stage.name}: model monitoring, drift -> retrain loop, dashboard",
    )
    studio = StudioStack(
        app,
        f"{prefix}-Studio",
        data_lake=data.data_lake,
        network=network.network,
        registry=data.registry,
        env=env,
        description=f"{project} {stage.name}: SageMaker Studio domain and MLflow tracking",
    )
    built = PlatformStage(
        config=stage,
        network=network,
        data=data,
        features=features,
        pipelines=pipelines,
        serving=serving,
        approval=approval,
        monitoring=monitoring,
        studio=studio,
    )
    for stack in built.stacks:
        apply_lifecycle_tags(stack, project=project, stage=stage.name)
    return built
