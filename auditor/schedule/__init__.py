"""Scheduled runs: many repositories from one config into one dated pack, with a run record.

:mod:`~auditor.schedule.run` plans and gathers; :mod:`~auditor.schedule.workers` mines and
assesses one repository per task, in local processes or on a Dask cluster
(:mod:`~auditor.schedule.cluster`); :mod:`~auditor.schedule.records` is what the store keeps.
"""
