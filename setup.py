"""Ships the top-level ``controls/`` and ``report_templates/`` inside the wheel.

They live at the top of the repository (where people edit them) and install as the data
packages ``auditor._controls`` and ``auditor._templates``; see ``auditor/resources.py``.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["auditor", "auditor.*"]), "auditor._controls", "auditor._templates"],
    package_dir={"auditor._controls": "controls", "auditor._templates": "report_templates"},
    package_data={
        "auditor._controls": ["*.yaml", "*.yml", "**/*.yaml"],
        "auditor._templates": ["*", "**/*"],
        "auditor.infra": ["rules.yaml"],
    },
)
