"""Scheduled runs: many repositories from one config into one dated pack, with a run record.

:mod:`~auditor.runs.run` plans and gathers; :mod:`~auditor.runs.workers` mines and
assesses one repository per task, in local processes or on a Dask cluster
(:mod:`~auditor.runs.cluster`); the run records the store keeps are in :mod:`~auditor.model`.
"""
