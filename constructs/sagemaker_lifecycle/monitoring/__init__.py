"""Model monitoring for SageMaker endpoints.

The built-in backend runs ``scripts/monitor.py`` (data quality, model quality and bias of a
data-capture window) in a processing job; :mod:`.monitor_script` says where the script is and
renders its command line. Metric names live in :mod:`sagemaker_lifecycle.metrics`.
"""

from sagemaker_lifecycle.monitoring.monitor_script import (
    MONITOR_ENTRY_POINT,
    MONITOR_SCRIPT_DIR,
    MONITOR_SCRIPT_EXCLUDES,
    monitor_arguments,
)

__all__ = [
    "MONITOR_ENTRY_POINT",
    "MONITOR_SCRIPT_DIR",
    "MONITOR_SCRIPT_EXCLUDES",
    "monitor_arguments",
]
