from __future__ import annotations

from auditor.infra import (
    Category,
    FileAnalysis,
    Operation,
    ResourceChange,
    ResourceKind,
    SignalKind,
    analyse_file,
)


def analyse(before: str | None, after: str | None, path: str = "main.tf") -> FileAnalysis:
    return analyse_file(
        path,
        None,
        None if before is None else before.encode(),
        None if after is None else after.encode(),
    )


def changes(result: FileAnalysis) -> dict[str, ResourceChange]:
    return {change.address: change for change in result.changes}


def attrs(change: ResourceChange) -> dict[str, tuple[str | None, str | None]]:
    return {a.path: (a.before, a.after) for a in change.changed_attributes}


SG = """
resource "aws_security_group" "web" {
  name = "web"
  ingress {
    from_port   = 443
    cidr_blocks = ["10.0.0.0/8"]
  }
}
"""


def test_resource_added_removed_modified() -> None:
    added = changes(analyse(None, SG))["aws_security_group.web"]
    assert (added.operation, added.kind, added.type) == (
        Operation.ADDED,
        ResourceKind.RESOURCE,
        "aws_security_group",
    )
    assert added.categories == {Category.NETWORK}
    removed = changes(analyse(SG, ""))["aws_security_group.web"]
    assert removed.operation is Operation.REMOVED
    modified = changes(analyse(SG, SG.replace("10.0.0.0/8", "0.0.0.0/0")))["aws_security_group.web"]
    assert modified.operation is Operation.MODIFIED
    assert attrs(modified) == {"ingress[0].cidr_blocks": ('["10.0.0.0/8"]', '["0.0.0.0/0"]')}
    assert str(modified.changed_attributes[0]) == (
        'ingress[0].cidr_blocks: ["10.0.0.0/8"] → ["0.0.0.0/0"]'
    )


def test_unchanged_blocks_yield_no_changes() -> None:
    other = 'resource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n}\n'
    result = analyse(SG + other, SG + other.replace('"logs"\n', '"audit-logs"\n'))
    assert [c.address for c in result.changes] == ["aws_s3_bucket.logs"]
    assert attrs(result.changes[0]) == {"bucket": ("logs", "audit-logs")}


def test_data_module_variable_output_provider_locals_addresses() -> None:
    before = """
data "aws_iam_policy_document" "x" {
  statement { actions = ["s3:GetObject"] }
}
module "vpc" {
  source = "terraform-aws-modules/vpc/aws"
}
variable "region" {
  default = "eu-west-1"
}
output "arn" { value = aws_s3_bucket.b.arn }
provider "aws" { region = var.region }
locals { env = "prod" }
"""
    after = """
data "aws_iam_policy_document" "x" {
  statement { actions = ["s3:*"] }
}
module "vpc" {
  source = "terraform-aws-modules/vpc/aws"
  cidr   = "10.1.0.0/16"
}
output "id" { value = aws_s3_bucket.b.id }
provider "aws" {
  region = var.region
  alias  = "us"
}
locals { env = "staging" }
"""
    found = {a: (c.kind, c.operation) for a, c in changes(analyse(before, after)).items()}
    assert found == {
        "data.aws_iam_policy_document.x": (ResourceKind.DATA, Operation.MODIFIED),
        "module.vpc": (ResourceKind.MODULE, Operation.MODIFIED),
        "var.region": (ResourceKind.VARIABLE, Operation.REMOVED),
        "output.arn": (ResourceKind.OUTPUT, Operation.REMOVED),
        "provider.aws": (ResourceKind.PROVIDER, Operation.REMOVED),
        "local.env": (ResourceKind.LOCAL, Operation.MODIFIED),
        "output.id": (ResourceKind.OUTPUT, Operation.ADDED),
        "provider.aws.us": (ResourceKind.PROVIDER, Operation.ADDED),
    }
    result = changes(analyse(before, after))
    assert result["data.aws_iam_policy_document.x"].categories == {Category.IDENTITY_ACCESS}
    assert result["module.vpc"].type == "terraform-aws-modules/vpc/aws"
    assert result["module.vpc"].categories == {Category.NETWORK}


def test_variable_added_and_modified() -> None:
    before = 'variable "size" {\n  default = 2\n}\n'
    after = before.replace("2", "4") + 'variable "name" {\n  type = string\n}\n'
    result = changes(analyse(before, after, "variables.tf"))
    assert attrs(result["var.size"]) == {"default": ("2", "4")}
    assert result["var.name"].operation is Operation.ADDED


def test_module_source_and_version_changes_are_signals() -> None:
    before = (
        'module "eks" {\n  source  = "terraform-aws-modules/eks/aws"\n  version = "19.0.0"\n}\n'
    )
    after = before.replace("19.0.0", "20.1.0").replace("terraform-aws-modules", "acme")
    result = analyse(before, after)
    assert {(s.kind, s.address, s.detail) for s in result.signals} == {
        (SignalKind.MODULE_VERSION_CHANGED, "module.eks", "19.0.0 → 20.1.0"),
        (
            SignalKind.MODULE_SOURCE_CHANGED,
            "module.eks",
            "terraform-aws-modules/eks/aws → acme/eks/aws",
        ),
    }


def test_provider_constraint_change_is_a_signal() -> None:
    before = """
terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 4.0" }
  }
}
"""
    after = before.replace("~> 4.0", "~> 5.0")
    result = analyse(before, after, "versions.tf")
    assert [(s.kind, s.address, s.detail) for s in result.signals] == [
        (SignalKind.PROVIDER_VERSION_CHANGED, "provider.aws", "~> 4.0 → ~> 5.0")
    ]
    assert attrs(result.changes[0]) == {"required_providers[0].aws.version": ("~> 4.0", "~> 5.0")}


def test_lock_file_version_change() -> None:
    before = """
provider "registry.terraform.io/hashicorp/aws" {
  version     = "5.30.0"
  constraints = "~> 5.0"
  hashes      = ["h1:abc="]
}
"""
    after = before.replace("5.30.0", "5.31.0").replace("h1:abc=", "h1:def=")
    result = analyse(before, after, "envs/prod/.terraform.lock.hcl")
    change = result.changes[0]
    assert (change.kind, change.address) == (
        ResourceKind.LOCK,
        "lock.registry.terraform.io/hashicorp/aws",
    )
    assert attrs(change)["version"] == ("5.30.0", "5.31.0")
    assert [(s.kind, s.detail) for s in result.signals] == [
        (SignalKind.PROVIDER_VERSION_CHANGED, "5.30.0 → 5.31.0")
    ]


def test_drift_signals() -> None:
    before = 'resource "aws_instance" "app" {\n  ami = "ami-1"\n}\n'
    after = """
resource "aws_instance" "app" {
  ami = "ami-1"
  lifecycle {
    ignore_changes = [ami, tags]
  }
}
import {
  to = aws_s3_bucket.logs
  id = "logs"
}
moved {
  from = aws_instance.old
  to   = aws_instance.app
}
removed {
  from = aws_db_instance.legacy
  lifecycle { destroy = false }
}
"""
    result = analyse(before, after)
    assert {(s.kind, s.address, s.detail) for s in result.signals} == {
        (SignalKind.IGNORE_CHANGES_ADDED, "aws_instance.app", "ami, tags"),
        (SignalKind.IMPORT_ADDED, "import.aws_s3_bucket.logs", ""),
        (SignalKind.MOVED_ADDED, "moved.aws_instance.old", ""),
        (SignalKind.REMOVED_ADDED, "removed.aws_db_instance.legacy", ""),
    }
    assert changes(result)["import.aws_s3_bucket.logs"].categories == {Category.STORAGE}


def test_changed_fields_decide_categories() -> None:
    before = """
resource "aws_instance" "app" {
  ami           = "ami-1"
  instance_type = "t3.small"
  tags          = { Team = "a" }
}
"""
    scaled = analyse(before, before.replace("t3.small", "m5.large"))
    assert scaled.categories == {Category.SCALING}
    rebuilt = analyse(before, before.replace("ami-1", "ami-2"))
    assert rebuilt.categories == {Category.COMPUTE}
    retagged = analyse(before, before.replace('"a"', '"b"'))
    assert retagged.categories == {Category.OTHER}


def test_tfvars_assignments() -> None:
    before = 'instance_type = "t3.small"\nregion = "eu-west-1"\n'
    after = 'instance_type = "t3.large"\nregion = "eu-west-1"\n'
    result = analyse(before, after, "envs/prod/terraform.tfvars")
    assert [(c.address, c.kind) for c in result.changes] == [
        ("var.instance_type", ResourceKind.VALUE)
    ]
    assert attrs(result.changes[0]) == {"instance_type": ("t3.small", "t3.large")}
    assert result.categories == {Category.SCALING}


def test_terraform_json() -> None:
    before = '{"resource": {"aws_s3_bucket": {"b": {"bucket": "x"}}}}'
    after = '{"resource": {"aws_s3_bucket": {"b": {"bucket": "y"}}}, "variable": {"v": {}}}'
    result = changes(analyse(before, after, "main.tf.json"))
    assert attrs(result["aws_s3_bucket.b"]) == {"bucket": ("x", "y")}
    assert result["var.v"].operation is Operation.ADDED


def test_sensitive_attribute_values_are_redacted() -> None:
    before = 'resource "aws_db_instance" "db" {\n  password = "old-Secret-Value1"\n}\n'
    after = before.replace("old-Secret-Value1", "new-Secret-Value2")
    change = analyse(before, after).changes[0]
    assert attrs(change) == {"password": ("<redacted>", "<redacted>")}


def test_malformed_hcl_reports_error_and_falls_back_to_path() -> None:
    result = analyse(SG, 'resource "aws_security_group" "web" {\n  name = \n', "network/sg.tf")
    assert result.changes == ()
    assert len(result.errors) == 1
    assert result.errors[0].startswith("network/sg.tf: cannot parse after: invalid HCL")
    assert result.categories == {Category.NETWORK}


def test_heredoc_and_comments_split_safely() -> None:
    before = """
# the bucket policy
resource "aws_s3_bucket_policy" "p" {
  bucket = "b" // inline
  policy = <<EOF
{"Statement": [{"Effect": "Allow", "Principal": "*"}]}
EOF
}
/* block
   comment } */
resource "aws_s3_bucket" "b" { bucket = "b-${var.env}" }
"""
    after = before.replace('"Allow"', '"Deny"')
    result = analyse(before, after)
    assert [c.address for c in result.changes] == ["aws_s3_bucket_policy.p"]
    assert result.categories == {Category.IDENTITY_ACCESS}
