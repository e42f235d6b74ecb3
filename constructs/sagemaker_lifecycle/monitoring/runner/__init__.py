"""The processing job's entry point for the built-in monitor (see :mod:`.monitor_runner`).

Uploaded as a single file and run in the SageMaker scikit-learn image; the library never
imports it at synth time.
"""
