"""The evaluation stage: the control catalog, its checks, waivers and the auditor's sample."""
