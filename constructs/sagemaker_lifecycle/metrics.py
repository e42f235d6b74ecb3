"""CloudWatch namespaces, metric names and dimensions: the one place they are spelled.

Constructs build their ``metric_*`` methods from these, and alarms and the dashboard are
built from those methods, so a name is never re-typed.
"""

from __future__ import annotations

from typing import Final

# --- SageMaker endpoints -------------------------------------------------------------------
#: Invocation metrics of real-time, serverless and async endpoints.
SAGEMAKER_NAMESPACE: Final = "AWS/SageMaker"
#: Instance utilisation metrics of endpoint variants.
ENDPOINT_INSTANCE_NAMESPACE: Final = "/aws/sagemaker/Endpoints"

DIM_ENDPOINT_NAME: Final = "EndpointName"
DIM_VARIANT_NAME: Final = "VariantName"

INVOCATIONS: Final = "Invocations"
INVOCATIONS_PER_INSTANCE: Final = "InvocationsPerInstance"
INVOCATION_4XX_ERRORS: Final = "Invocation4XXErrors"
INVOCATION_5XX_ERRORS: Final = "Invocation5XXErrors"
MODEL_LATENCY: Final = "ModelLatency"  # microseconds
OVERHEAD_LATENCY: Final = "OverheadLatency"  # microseconds
MODEL_SETUP_TIME: Final = "ModelSetupTime"  # serverless cold starts, microseconds
CPU_UTILIZATION: Final = "CPUUtilization"
MEMORY_UTILIZATION: Final = "MemoryUtilization"
DISK_UTILIZATION: Final = "DiskUtilization"
#: Async endpoints: queued requests per instance (dimension EndpointName only).
APPROXIMATE_BACKLOG_SIZE_PER_INSTANCE: Final = "ApproximateBacklogSizePerInstance"
APPROXIMATE_BACKLOG_SIZE: Final = "ApproximateBacklogSize"
HAS_BACKLOG_WITHOUT_CAPACITY: Final = "HasBacklogWithoutCapacity"

# --- SageMaker Pipelines -------------------------------------------------------------------
#: The spelling ("Sagemaker") is the service's own.
PIPELINE_NAMESPACE: Final = "AWS/Sagemaker/ModelBuildingPipeline"
DIM_PIPELINE_NAME: Final = "PipelineName"
PIPELINE_EXECUTION_STARTED: Final = "ExecutionStarted"
PIPELINE_EXECUTION_SUCCEEDED: Final = "ExecutionSucceeded"
PIPELINE_EXECUTION_FAILED: Final = "ExecutionFailed"
PIPELINE_EXECUTION_STOPPED: Final = "ExecutionStopped"
