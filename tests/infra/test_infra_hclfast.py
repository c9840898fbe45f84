"""The fast HCL reader agrees with python-hcl2 wherever it accepts a text, and declines the rest."""

from __future__ import annotations

from typing import Any

import hcl2
import pytest

from auditor.infra import analyse_file, hclfast, terraform
from auditor.infra.analyse import _hcl_item

OPTIONS = hcl2.SerializationOptions(
    with_comments=False, explicit_blocks=True, strip_string_quotes=True, preserve_heredocs=False
)

ACCEPTED = [
    "",
    "# only a comment\n",
    'a = "x\\"y\\\\z\\n"',
    "a = 1.0\nb = 1.50\nc = 007\nd = -1\ne = -0\nf = -0.0\ng = 12345678901234567890",
    "a = true\nb = false\nc = null",
    "a = aws_vpc.main.id\nb = foo\nc = foo-bar\nd = var.x-1\ne = true1",
    'a = {\n "k" = 1\n b = 2,\n c: 3\n}',
    "a = {}\nb = []\nc = [\n]\nd = {\n  # only\n}",
    'a = [\n 1,\n 2,\n]\nb = [ "x" , "y" ]\nc = { k = [1, {z = 2}] }',
    'a = ["a", # c\n "b"]\nb = "x" // c\nc = "x" # c',
    'b {\n}\nb "l1" "l2" {\n a = 1\n}\nb l1 {\n a = 1\n}\nb "x" {}',
    "b {\n  c {\n  }\n  c {}\n}\n",
    'a = "é"\nb = "x\ty"\nc = {"a.b" = 1}\nd = {a = 1, a = 2}',
    "b {\n  a = 1\n  a = 2\n}\n",
    'a = map(string)\nb = merge(var.tags, { Module = "vpc" })',
    'a = list(object({a=string, "b" = number}))',
    'a = f("x", 1, true, null, [1,2], {a = "b", "c" = 1})',
    "a = f()\nb = f(\n  1,\n  2,\n)\nc = f({})\nd = f([])\ne = f(g(h(1)))",
    'a = f({\n a = 1\n b = 2\n})\nb = f("a\\"b")\nc = f(1.5, -2)',
    "a = <<-EOT\n  hello\n  world\nEOT\n",
    "a = <<EOT\nhello\n  world\nEOT\n",
    "a = <<-EOT\n    a\n  b\n  EOT\n",
    "a = <<EOT\nEOT\n",
    'resource "aws_security_group" "web" {\n  name = "web"\n  ingress {\n    from_port   = 443\n'
    '    cidr_blocks = ["10.0.0.0/8"]\n  }\n  tags = merge(local.tags, { Name = "web" })\n'
    "  lifecycle {\n    ignore_changes = [tags]\n  }\n}\n",
]

DECLINED = [
    'a = "${var.x}"',
    'a = "a${var.x}b"',
    'a = "%{if x}y%{endif}"',
    "a = var.x[0]",
    "a = var.x.*.id",
    "a = 1e3",
    "a = 0x1F",
    "a = - 1",
    "a = var.a ? 1 : 2",
    "a = 1 + 2",
    "a = /* c */ 1",
    "a = f(var.x...)",
    "a = provider::x::f(1)",
    'a = f("${x}")',
    "a = f(x, # c\n y)",
    "a = <<EOT\nx ${var.y}\nEOT\n",
    "a = <<-EOT\n  x\n\n  y\nEOT\n",
    'b "l1" { a = 1 }',
    "b {\n  a = 1 }",
    "a = {b=1 c=2}",
    "b {\n a = 1\n a {}\n}",
    "a = 1\r\n",
    "a = 'x'",
    "a = 1.",
    "a = .5",
    "a = True",
]


def reference(text: str) -> Any:
    try:
        return hcl2.loads(text, serialization_options=OPTIONS)
    except Exception as err:  # python-hcl2 raises many kinds of errors
        return f"error: {type(err).__name__}"


@pytest.mark.parametrize("text", ACCEPTED)
def test_accepted_texts_read_exactly_as_python_hcl2(text: str) -> None:
    fast = hclfast.loads(text)
    assert repr(fast) == repr(reference(text))  # repr: 1 and 1.0 and True differ


@pytest.mark.parametrize("text", DECLINED)
def test_declined_texts_are_left_to_python_hcl2(text: str) -> None:
    with pytest.raises(hclfast.Unsupported):
        hclfast.loads(text)


def test_a_text_python_hcl2_rejects_is_never_accepted() -> None:
    for text in ["a = <<EOT\n  x\n  EOT\nEOT\n", "b {\n a = 1\n a {}\n}", "a = [1,,2]", "a = [,]"]:
        assert isinstance(reference(text), str)
        with pytest.raises(hclfast.Unsupported):
            hclfast.loads(text)


def test_declined_text_still_parses_through_python_hcl2() -> None:
    data = terraform.load('a = "${var.x}-suffix"\nb = var.list[0]\n')
    assert data == {"a": "${var.x}-suffix", "b": "${var.list[0]}"}


def test_merging_items_equals_reading_them_joined() -> None:
    items = [
        'resource "a" "b" {\n  x = 1\n}',
        'variable "v" {\n  default = 2\n}',
        'resource "a" "c" {}',
        "locals {\n  y = 3\n}",
        "locals {\n  z = 4\n}",
    ]
    merged = terraform.merge([hclfast.loads(item) for item in items])
    assert repr(merged) == repr(reference("\n".join(items) + "\n"))


def test_a_block_after_an_attribute_of_its_name_is_an_error() -> None:
    with pytest.raises(ValueError, match="already defined"):
        terraform.merge([{"a": 1}, {"a": [{"__is_block__": True}]}])


def test_results_do_not_depend_on_the_fast_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    before = ACCEPTED[-1].encode()
    after = before.replace(b"443", b"8443").replace(b"10.0.0.0/8", b"0.0.0.0/0")
    fast = analyse_file("net.tf", None, before, after)

    def decline(text: str) -> dict[str, object]:
        raise hclfast.Unsupported("forced")

    monkeypatch.setattr(hclfast, "loads", decline)
    _hcl_item.cache_clear()
    try:
        slow = analyse_file("net.tf", None, before, after)
    finally:
        _hcl_item.cache_clear()
    assert slow == fast
    assert {a.path for c in fast.changes for a in c.changed_attributes} == {
        "ingress[0].from_port",
        "ingress[0].cidr_blocks",
    }
