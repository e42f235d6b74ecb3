"""The built-in monitor: a processing-job script and the modules it imports.

This folder is uploaded as the processing job's code and run as ``python monitor.py``
in the SageMaker scikit-learn 1.2-1 image (Python 3.9, numpy, pandas, scipy,
scikit-learn, boto3). Only :mod:`.monitor_contract` may be imported by the library itself:
it needs nothing beyond the standard library.
"""
