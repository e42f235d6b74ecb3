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

# --- EventBridge rules --------------------------------------------------------------------
# Per-rule metrics of the default event bus ("Monitoring Amazon EventBridge", EventBridge
# user guide): a rule on a custom bus also carries an EventBusName dimension.
EVENTS_NAMESPACE: Final = "AWS/Events"
EVENTS_DIM_RULE_NAME: Final = "RuleName"
#: Times a rule invoked a target, successful or failed.
EVENTS_INVOCATIONS: Final = "Invocations"

# --- Model monitoring ----------------------------------------------------------------------
# Built-in backend: published by monitoring/scripts/monitor.py with PutMetricData. The script
# runs in a processing container without this library, so monitor_contract.py repeats these
# names; tests/unit/test_monitor_script.py keeps the two identical.
MONITOR_NAMESPACE: Final = "SageMakerLifecycle/ModelMonitoring"
MONITOR_DIM_ENDPOINT: Final = "Endpoint"
MONITOR_DIM_MONITOR: Final = "Monitor"
#: A feature's name; for bias metrics, the facet's feature.
MONITOR_DIM_FEATURE: Final = "Feature"

# Per run, dimensions (Endpoint, Monitor).
#: 1 when the window held no well-formed capture record, else 0; published every run.
MONITOR_NO_DATA: Final = "NoData"
MONITOR_RECORDS_ANALYZED: Final = "RecordsAnalyzed"  # Count: request rows analysed
MONITOR_MALFORMED_RECORDS: Final = "MalformedRecords"  # Count: capture lines skipped
MONITOR_VIOLATIONS: Final = "Violations"  # Count: entries of violations.json
MONITOR_FEATURES_DRIFTED: Final = "FeaturesDrifted"  # Count
MONITOR_SCHEMA_VIOLATIONS: Final = "SchemaViolations"  # Count: type, extra/missing columns
MONITOR_GROUND_TRUTH_MATCHED: Final = "GroundTruthMatched"  # Count: predictions with a label
MONITOR_ACCURACY: Final = "Accuracy"
MONITOR_PRECISION: Final = "Precision"  # positive class; macro average for multiclass
MONITOR_RECALL: Final = "Recall"
MONITOR_F1: Final = "F1"
MONITOR_AUC: Final = "AUC"  # binary classification with scores
MONITOR_MAE: Final = "MAE"
MONITOR_RMSE: Final = "RMSE"
MONITOR_R2: Final = "R2"

# Per feature, dimensions (Endpoint, Monitor, Feature).
MONITOR_PSI: Final = "PopulationStabilityIndex"
MONITOR_KS_STATISTIC: Final = "KSStatistic"  # numeric features
MONITOR_KS_P_VALUE: Final = "KSPValue"  # numeric features
MONITOR_CHI_SQUARE_P_VALUE: Final = "ChiSquarePValue"  # categorical features
MONITOR_LINF_DISTANCE: Final = "LInfinityDistance"  # categorical features
MONITOR_MISSING_RATE: Final = "MissingRate"
MONITOR_TYPE_MISMATCH_RATE: Final = "TypeMismatchRate"
#: 1 when the feature drifted by the run's thresholds, else 0: alarm on this per feature.
MONITOR_DRIFT_DETECTED: Final = "DriftDetected"

# Per facet, dimensions (Endpoint, Monitor, Feature=<facet feature>); SageMaker Clarify's
# definitions of class imbalance (CI) and DPPL.
MONITOR_CLASS_IMBALANCE: Final = "ClassImbalance"
MONITOR_DPPL: Final = "DPPL"

# SageMaker Model Monitor backend (real-time endpoints). The developer guide's "CloudWatch
# Metrics" page gives the data-quality namespace as "/aws/sagemaker/Endpoints/data-metric"
# with EndpointName/ScheduleName dimensions; the SageMaker Python SDK's dashboards query
# "aws/sagemaker/Endpoints/data-metrics" with Endpoint, Feature and MonitoringSchedule, and
# "aws/sagemaker/Endpoints/model-metrics" with Endpoint and MonitoringSchedule
# (aws/sagemaker-python-sdk, src/sagemaker/dashboard/data_quality_dashboard.py and
# model_quality_dashboard.py). We follow the SDK. Bias and explainability namespaces and
# dimensions: "CloudWatch Metrics for Bias Drift Analysis" and "CloudWatch Metrics for
# Feature Drift Analysis" in the SageMaker developer guide.
MODEL_MONITOR_DATA_NAMESPACE: Final = "aws/sagemaker/Endpoints/data-metrics"
MODEL_MONITOR_MODEL_NAMESPACE: Final = "aws/sagemaker/Endpoints/model-metrics"
MODEL_MONITOR_BIAS_NAMESPACE: Final = "aws/sagemaker/Endpoints/bias-metrics"
MODEL_MONITOR_EXPLAINABILITY_NAMESPACE: Final = "aws/sagemaker/Endpoints/explainability-metrics"
MODEL_MONITOR_DIM_ENDPOINT: Final = "Endpoint"
MODEL_MONITOR_DIM_SCHEDULE: Final = "MonitoringSchedule"
#: Data-quality metrics carry a Feature dimension too; the feature is also in the metric name.
MODEL_MONITOR_DIM_FEATURE: Final = "Feature"
# Bias metrics also carry these dimensions.
MODEL_MONITOR_DIM_BIAS_STAGE: Final = "BiasStage"  # "Pre-training" or "Post-Training"
MODEL_MONITOR_DIM_LABEL: Final = "Label"
MODEL_MONITOR_DIM_LABEL_VALUE: Final = "LabelValue"
MODEL_MONITOR_DIM_FACET: Final = "Facet"
MODEL_MONITOR_DIM_FACET_VALUE: Final = "FacetValue"
# Data-quality metric names are these prefixes followed by the feature name.
MODEL_MONITOR_FEATURE_BASELINE_DRIFT_PREFIX: Final = "feature_baseline_drift_"
MODEL_MONITOR_FEATURE_COMPLETENESS_PREFIX: Final = "feature_completeness_"
MODEL_MONITOR_FEATURE_NULL_PREFIX: Final = "feature_null_"
MODEL_MONITOR_FEATURE_NON_NULL_PREFIX: Final = "feature_non_null_"
# Model-quality metric names (binary classification, regression; multiclass uses the
# "weighted_" forms such as weighted_f1).
MODEL_MONITOR_ACCURACY: Final = "accuracy"
MODEL_MONITOR_PRECISION: Final = "precision"
MODEL_MONITOR_RECALL: Final = "recall"
MODEL_MONITOR_F1: Final = "f1"
MODEL_MONITOR_AUC: Final = "auc"
MODEL_MONITOR_WEIGHTED_F1: Final = "weighted_f1"
MODEL_MONITOR_MAE: Final = "mae"
MODEL_MONITOR_MSE: Final = "mse"
MODEL_MONITOR_RMSE: Final = "rmse"
MODEL_MONITOR_R2: Final = "r2"
#: Bias metric names are this prefix followed by Clarify's short name: bias_metric_DPPL.
MODEL_MONITOR_BIAS_METRIC_PREFIX: Final = "bias_metric_"
MODEL_MONITOR_CLASS_IMBALANCE: Final = "bias_metric_CI"
MODEL_MONITOR_DPPL: Final = "bias_metric_DPPL"
