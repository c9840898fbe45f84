"""Terraform files of the sample repository and the edits engineers and bots make to them."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
from random import Random

ENVS = {"dev": ("eu-west-1", 10), "staging": ("eu-west-1", 20), "prod": ("eu-central-1", 30)}
COMPONENTS = ("network", "iam", "compute", "storage", "database", "monitoring")
MODULES = ("vpc", "asg-service", "iam-role", "s3-bucket", "rds-postgres")
INSTANCE_TYPES = ("t3.medium", "t3.large", "m6i.large", "m6i.xlarge", "m7g.large", "c6i.xlarge")
DB_CLASSES = ("db.t4g.medium", "db.r6g.large", "db.r6g.xlarge", "db.r7g.large")
PORTS = {443: "HTTPS", 8443: "admin API", 5432: "PostgreSQL", 6379: "Redis", 9090: "Prometheus"}
STATEMENTS = {
    "sqs": ("sqs:SendMessage", "sqs:GetQueueUrl"),
    "kms": ("kms:Decrypt", "kms:GenerateDataKey"),
    "s3": ("s3:GetObject", "s3:PutObject"),
    "ssm": ("ssm:GetParameter", "ssm:GetParametersByPath"),
    "logs": ("logs:CreateLogStream", "logs:PutLogEvents"),
    "ecr": ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"),
}
ACCOUNT = "123456789012"
AWS_PROVIDER = "5.40.0"


@dataclass(frozen=True)
class Edit:
    """New file content and a short description of the change, for the commit subject."""

    text: str
    summary: str


TextOp = Callable[[Random, str], Edit | None]


def component_files(env: str, component: str, rng: Random) -> dict[str, str]:
    """The files of one Terraform root module, ``envs/<env>/<component>/``."""
    region, net = ENVS[env]
    main = {
        "network": _network,
        "iam": _iam,
        "compute": _compute,
        "storage": _storage,
        "database": _database,
        "monitoring": _monitoring,
    }[component](env, region, net, rng)
    return {
        "main.tf": main,
        "variables.tf": _variables(component),
        "outputs.tf": _outputs(component),
        "versions.tf": versions_tf("~> 5.40"),
        "backend.tf": _backend(env, component),
        "providers.tf": _providers(),
        "terraform.tfvars": f'environment = "{env}"\nregion      = "{region}"\n'
        f'cost_center = "CC-{rng.randrange(1000, 9999)}"\n',
        ".terraform.lock.hcl": lock_file(AWS_PROVIDER, "~> 5.40", rng),
    }


def module_files(module: str) -> dict[str, str]:
    return {
        "main.tf": f'locals {{\n  module_name = "{module}"\n  tags        = merge(var.tags, '
        f'{{ Module = "{module}" }})\n}}\n',
        "variables.tf": 'variable "name" {\n  type = string\n}\n\nvariable "tags" {\n'
        "  type    = map(string)\n  default = {}\n}\n",
        "outputs.tf": 'output "name" {\n  value = var.name\n}\n',
        "versions.tf": versions_tf(">= 5.0"),
        "README.md": f"# {module}\n\nReusable module. Inputs: `name`, `tags`.\n",
    }


def versions_tf(constraint: str) -> str:
    return (
        'terraform {\n  required_version = ">= 1.6.0"\n\n  required_providers {\n    aws = {\n'
        f'      source  = "hashicorp/aws"\n      version = "{constraint}"\n    }}\n  }}\n}}\n'
    )


def lock_file(version: str, constraint: str, rng: Random) -> str:
    hashes = [f"h1:{base64.b64encode(rng.randbytes(32)).decode()}"]
    hashes += [f"zh:{rng.randbytes(32).hex()}" for _ in range(4)]
    listed = "".join(f'    "{value}",\n' for value in hashes)
    return (
        '# This file is maintained automatically by "terraform init".\n'
        "# Manual edits may be lost in future updates.\n\n"
        'provider "registry.terraform.io/hashicorp/aws" {\n'
        f'  version     = "{version}"\n  constraints = "{constraint}"\n'
        f"  hashes = [\n{listed}  ]\n}}\n"
    )


def _backend(env: str, component: str) -> str:
    return (
        'terraform {\n  backend "s3" {\n    bucket         = "acme-terraform-state"\n'
        f'    key            = "{env}/{component}/terraform.tfstate"\n'
        '    region         = "eu-west-1"\n    dynamodb_table = "terraform-locks"\n'
        "    encrypt        = true\n  }\n}\n"
    )


def _providers() -> str:
    return (
        'provider "aws" {\n  region = var.region\n\n  default_tags {\n    tags = {\n'
        '      Environment = var.environment\n      ManagedBy   = "terraform"\n'
        '      Repository  = "acme/infra-live"\n    }\n  }\n}\n'
    )


def _variables(component: str) -> str:
    names = ["environment", "region", "cost_center"]
    if component == "compute":
        names.append("ami_id")
    return "\n".join(f'variable "{name}" {{\n  type = string\n}}\n' for name in names)


def _outputs(component: str) -> str:
    value = {
        "network": "aws_vpc.main.id",
        "iam": "aws_iam_role.deployer.arn",
        "compute": "aws_autoscaling_group.web.name",
        "storage": "aws_s3_bucket.artifacts.arn",
        "database": "aws_db_instance.main.endpoint",
        "monitoring": "aws_sns_topic.alerts.arn",
    }[component]
    return f'output "{component}_id" {{\n  value = {value}\n}}\n'


def _subnet(env: str, region: str, net: int, index: int) -> str:
    zone = "abc"[index % 3]
    return (
        f'resource "aws_subnet" "private_{index}" {{\n  vpc_id            = aws_vpc.main.id\n'
        f'  cidr_block        = "10.{net}.{index + 1}.0/24"\n'
        f'  availability_zone = "{region}{zone}"\n\n  tags = {{\n'
        f'    Name = "{env}-private-{index}"\n    Tier = "private"\n  }}\n}}\n'
    )


def _security_group(env: str, name: str, port: int, cidr: str) -> str:
    return (
        f'resource "aws_security_group" "{name}" {{\n  name        = "{env}-{name}"\n'
        f'  description = "{name} tier"\n  vpc_id      = aws_vpc.main.id\n\n'
        + _ingress(PORTS[port], port, cidr)
        + '  egress {\n    from_port   = 0\n    to_port     = 0\n    protocol    = "-1"\n'
        '    cidr_blocks = ["0.0.0.0/0"]\n  }\n}\n'
    )


def _ingress(description: str, port: int, cidr: str) -> str:
    return (
        f'  ingress {{\n    description = "{description}"\n    from_port   = {port}\n'
        f'    to_port     = {port}\n    protocol    = "tcp"\n    cidr_blocks = ["{cidr}"]\n  }}\n\n'
    )


def _network(env: str, region: str, net: int, rng: Random) -> str:
    parts = [
        f'resource "aws_vpc" "main" {{\n  cidr_block           = "10.{net}.0.0/16"\n'
        "  enable_dns_hostnames = true\n  enable_dns_support   = true\n\n"
        f'  tags = {{\n    Name = "{env}-main"\n  }}\n}}\n'
    ]
    parts += [_subnet(env, region, net, index) for index in range(3)]
    parts.append(_security_group(env, "app", 443, f"10.{net}.0.0/16"))
    parts.append(_security_group(env, "db", 5432, f"10.{net}.1.0/24"))
    return "\n".join(parts)


def _statement(sid: str, actions: tuple[str, ...], resource: str) -> str:
    listed = "".join(f'      "{action}",\n' for action in actions)
    return (
        f'  statement {{\n    sid     = "{sid}"\n    effect  = "Allow"\n    actions = [\n{listed}'
        f'    ]\n    resources = ["{resource}"]\n  }}\n\n'
    )


def _iam(env: str, region: str, net: int, rng: Random) -> str:
    oidc = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    parts = [
        'data "aws_iam_policy_document" "assume_ci" {\n  statement {\n'
        '    actions = ["sts:AssumeRoleWithWebIdentity"]\n\n    principals {\n'
        f'      type        = "Federated"\n      identifiers = ["{oidc}"]\n    }}\n  }}\n}}\n'
    ]
    for role, service in (("deployer", "s3"), ("readonly", "logs"), ("app", "ssm")):
        resource = f"arn:aws:{service}:::acme-{env}-*"
        parts.append(
            f'resource "aws_iam_role" "{role}" {{\n  name               = "{env}-{role}"\n'
            "  assume_role_policy = data.aws_iam_policy_document.assume_ci.json\n}\n"
        )
        parts.append(
            f'data "aws_iam_policy_document" "{role}" {{\n'
            + _statement(f"Base{service.title()}", STATEMENTS[service], resource).rstrip("\n")
            + "\n}\n"
        )
        parts.append(
            f'resource "aws_iam_policy" "{role}" {{\n  name   = "{env}-{role}"\n'
            f"  policy = data.aws_iam_policy_document.{role}.json\n}}\n"
        )
        parts.append(
            f'resource "aws_iam_role_policy_attachment" "{role}" {{\n'
            f"  role       = aws_iam_role.{role}.name\n"
            f"  policy_arn = aws_iam_policy.{role}.arn\n}}\n"
        )
    return "\n".join(parts)


def _compute(env: str, region: str, net: int, rng: Random) -> str:
    parts = []
    for name in ("web", "worker"):
        parts.append(
            f'resource "aws_launch_template" "{name}" {{\n  name_prefix   = "{env}-{name}-"\n'
            f'  image_id      = var.ami_id\n  instance_type = "{rng.choice(INSTANCE_TYPES)}"\n\n'
            '  metadata_options {\n    http_tokens = "required"\n  }\n}\n'
        )
        parts.append(
            f'resource "aws_autoscaling_group" "{name}" {{\n  name             = "{env}-{name}"\n'
            f"  desired_capacity = {rng.randint(2, 4)}\n  min_size         = 1\n"
            "  max_size         = 12\n\n  launch_template {\n"
            f'    id      = aws_launch_template.{name}.id\n    version = "$Latest"\n  }}\n}}\n'
        )
    parts.append(
        'resource "aws_instance" "bastion" {\n  ami           = var.ami_id\n'
        '  instance_type = "t3.micro"\n\n  tags = {\n    Name = "bastion"\n  }\n}\n'
    )
    return "\n".join(parts)


def bucket(env: str, name: str) -> str:
    return (
        f'resource "aws_s3_bucket" "{name}" {{\n'
        f'  bucket = "acme-{env}-{name.replace("_", "-")}"\n}}\n\n'
        f'resource "aws_s3_bucket_versioning" "{name}" {{\n  bucket = aws_s3_bucket.{name}.id\n\n'
        '  versioning_configuration {\n    status = "Enabled"\n  }\n}\n\n'
        f'resource "aws_s3_bucket_public_access_block" "{name}" {{\n'
        f"  bucket                  = aws_s3_bucket.{name}.id\n  block_public_acls       = true\n"
        "  block_public_policy     = true\n  ignore_public_acls      = true\n"
        "  restrict_public_buckets = true\n}\n"
    )


def _storage(env: str, region: str, net: int, rng: Random) -> str:
    return "\n".join(bucket(env, name) for name in ("artifacts", "logs"))


def _database(env: str, region: str, net: int, rng: Random) -> str:
    return (
        'resource "aws_db_instance" "main" {\n  identifier              = '
        f'"{env}-main"\n  engine                  = "postgres"\n'
        '  engine_version          = "16.3"\n'
        f'  instance_class          = "{rng.choice(DB_CLASSES)}"\n'
        f"  allocated_storage       = {rng.choice((50, 100, 200))}\n"
        "  backup_retention_period = 7\n  multi_az                = "
        f"{'true' if env == 'prod' else 'false'}\n  storage_encrypted       = true\n}}\n"
    )


def alarm(name: str, metric: str, threshold: int) -> str:
    return (
        f'resource "aws_cloudwatch_metric_alarm" "{name}" {{\n  alarm_name          = "{name}"\n'
        f'  metric_name         = "{metric}"\n  namespace           = "AWS/EC2"\n'
        '  comparison_operator = "GreaterThanThreshold"\n  evaluation_periods  = 3\n'
        f'  period              = 300\n  statistic           = "Average"\n'
        f"  threshold           = {threshold}\n"
        "  alarm_actions       = [aws_sns_topic.alerts.arn]\n}\n"
    )


def _monitoring(env: str, region: str, net: int, rng: Random) -> str:
    return f'resource "aws_sns_topic" "alerts" {{\n  name = "{env}-alerts"\n}}\n\n' + alarm(
        f"{env}-cpu-high", "CPUUtilization", 80
    )


def _replace_one(rng: Random, text: str, pattern: str, new: Callable[[re.Match[str]], str]) -> str:
    matches = list(re.finditer(pattern, text))
    match = rng.choice(matches)
    return text[: match.start()] + new(match) + text[match.end() :]


def _instance_type(rng: Random, text: str) -> Edit | None:
    pattern = r'(instance_type\s*=\s*)"([^"]+)"'
    if not re.search(pattern, text):
        return None
    chosen = rng.choice(INSTANCE_TYPES)
    return Edit(
        _replace_one(rng, text, pattern, lambda m: f'{m.group(1)}"{chosen}"'),
        f"switch instances to {chosen}",
    )


def _capacity(rng: Random, text: str) -> Edit | None:
    pattern = r"(desired_capacity = )(\d+)"
    if not re.search(pattern, text):
        return None
    target = rng.randint(1, 12)
    return Edit(
        _replace_one(rng, text, pattern, lambda m: f"{m.group(1)}{target}"),
        f"set desired capacity to {target}",
    )


def _ingress_rule(rng: Random, text: str) -> Edit | None:
    anchors = [m.start() for m in re.finditer(r"^  egress \{$", text, re.MULTILINE)]
    if not anchors:
        return None
    at = rng.choice(anchors)
    port = rng.choice(sorted(PORTS))
    cidr = f"10.{rng.randrange(0, 60)}.{rng.randrange(0, 255)}.0/24"
    return Edit(
        text[:at] + _ingress(PORTS[port], port, cidr) + text[at:],
        f"allow tcp/{port} from {cidr}",
    )


def iam_statement(rng: Random, text: str) -> Edit | None:
    docs = [
        m.end()
        for m in re.finditer(r'^data "aws_iam_policy_document" "(\w+)" \{\n', text, re.MULTILINE)
        if m.group(1) != "assume_ci"
    ]
    if not docs:
        return None
    at = rng.choice(docs)
    service = rng.choice(sorted(STATEMENTS))
    sid = f"Allow{service.title()}{rng.randrange(100, 999)}"
    resource = f"arn:aws:{service}:*:{ACCOUNT}:acme-*"
    return Edit(
        text[:at] + _statement(sid, STATEMENTS[service], resource) + text[at:],
        f"grant {service} access ({', '.join(STATEMENTS[service])})",
    )


def _db_class(rng: Random, text: str) -> Edit | None:
    pattern = r'(instance_class\s*=\s*)"([^"]+)"'
    if not re.search(pattern, text):
        return None
    chosen = rng.choice(DB_CLASSES)
    return Edit(
        _replace_one(rng, text, pattern, lambda m: f'{m.group(1)}"{chosen}"'),
        f"resize database to {chosen}",
    )


def _storage_size(rng: Random, text: str) -> Edit | None:
    pattern = r"(allocated_storage\s*=\s*)(\d+)"
    if not re.search(pattern, text):
        return None
    return Edit(
        _replace_one(rng, text, pattern, lambda m: f"{m.group(1)}{int(m.group(2)) + 50}"),
        "grow database storage by 50 GiB",
    )


def _new_bucket(rng: Random, text: str) -> Edit | None:
    match = re.search(r'bucket = "acme-(\w+)-', text)
    if not match:
        return None
    purpose = rng.choice(("exports", "backups", "reports", "audit", "assets"))
    name = f"{purpose}_{rng.randrange(10, 99)}"
    return Edit(text + "\n" + bucket(match.group(1), name), f"add {name} bucket")


def _threshold(rng: Random, text: str) -> Edit | None:
    pattern = r"(threshold\s*=\s*)(\d+)"
    if not re.search(pattern, text):
        return None
    value = rng.choice((70, 75, 85, 90))
    return Edit(
        _replace_one(rng, text, pattern, lambda m: f"{m.group(1)}{value}"),
        f"tune alarm threshold to {value}",
    )


def _new_variable(rng: Random, text: str) -> Edit | None:
    if 'variable "' not in text:
        return None
    name = rng.choice(("enable_monitoring", "retention_days", "owner_team", "kms_key_arn"))
    if f'variable "{name}"' in text:
        return None
    return Edit(
        text + f'\nvariable "{name}" {{\n  type    = string\n  default = ""\n}}\n',
        f"add {name} variable",
    )


TERRAFORM_OPS: tuple[TextOp, ...] = (
    _instance_type,
    _capacity,
    _ingress_rule,
    iam_statement,
    _db_class,
    _storage_size,
    _new_bucket,
    _threshold,
    _new_variable,
)


def provider_bump(rng: Random, files: dict[str, str]) -> tuple[dict[str, str], str] | None:
    """Renovate's update of the AWS provider in one root module: constraint and lock file."""
    lock = files.get(".terraform.lock.hcl")
    match = re.search(r'version     = "(\d+)\.(\d+)\.(\d+)"', lock or "")
    if lock is None or match is None:
        return None
    major, minor, _ = (int(part) for part in match.groups())
    version = f"{major}.{minor + 1}.0"
    constraint = f"~> {major}.{minor + 1}"
    changed = {".terraform.lock.hcl": lock_file(version, constraint, rng)}
    if "versions.tf" in files:
        changed["versions.tf"] = re.sub(
            r'version = "~> [\d.]+"', f'version = "{constraint}"', files["versions.tf"]
        )
    return changed, version
