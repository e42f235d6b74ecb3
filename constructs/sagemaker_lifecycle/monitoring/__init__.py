"""Model monitoring for SageMaker endpoints.

:class:`ModelMonitor` watches an endpoint's captured traffic (data quality, model quality,
bias) with the built-in backend (``scripts/monitor.py`` in a scheduled SageMaker pipeline;
:mod:`.monitor_script` says where the script is and renders its command line) or with
SageMaker Model Monitor, and raises the same alarms either way. :class:`MlDashboard` charts
the lifecycle from the constructs' metric methods; :class:`DriftRetrainingLoop` starts the
retraining pipeline when drift or quality alarms go off, at most once per cool-down.
Metric names live in :mod:`sagemaker_lifecycle.metrics`.
"""

from sagemaker_lifecycle.monitoring.ml_dashboard import MlDashboard
from sagemaker_lifecycle.monitoring.model_monitor import ModelMonitor
from sagemaker_lifecycle.monitoring.monitor_config import (
    Baseline,
    BiasMonitor,
    DataQualityMonitor,
    ExplainabilityMonitor,
    ModelMonitorBaselines,
    ModelQualityMonitor,
    MonitorBackend,
    PredictionFormat,
)
from sagemaker_lifecycle.monitoring.monitor_script import (
    MONITOR_ENTRY_POINT,
    MONITOR_SCRIPT_DIR,
    MONITOR_SCRIPT_EXCLUDES,
    monitor_arguments,
)
from sagemaker_lifecycle.monitoring.monitoring_alarms import MonitorAlarms
from sagemaker_lifecycle.monitoring.retraining_loop import (
    DriftRetrainingLoop,
    SageMakerPipelineTarget,
)

__all__ = [
    "MONITOR_ENTRY_POINT",
    "MONITOR_SCRIPT_DIR",
    "MONITOR_SCRIPT_EXCLUDES",
    "Baseline",
    "BiasMonitor",
    "DataQualityMonitor",
    "DriftRetrainingLoop",
    "ExplainabilityMonitor",
    "MlDashboard",
    "ModelMonitor",
    "ModelMonitorBaselines",
    "ModelQualityMonitor",
    "MonitorAlarms",
    "MonitorBackend",
    "PredictionFormat",
    "SageMakerPipelineTarget",
    "monitor_arguments",
]
