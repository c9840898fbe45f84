from __future__ import annotations

from auditor.infra.chunks import differing, split_hcl, split_yaml

TRICKY = """# header
locals {
  brace = "}${join("}", ["{"])}"
  doc   = <<-EOT
    } not a close
    EOT
}

/* } */
variable "x" {} // trailing }
tags = [
  "a",
]
"""


def test_split_hcl_respects_strings_heredocs_and_comments() -> None:
    assert split_hcl(TRICKY) == [
        "# header",
        TRICKY[TRICKY.index("locals") : TRICKY.index("\n\n/*")],
        "/* } */",
        'variable "x" {} // trailing }',
        'tags = [\n  "a",\n]',
    ]


def test_split_hcl_gives_up_on_unbalanced_text() -> None:
    assert split_hcl('resource "a" "b" {\n') is None
    assert split_hcl("a = ]\n") is None
    assert split_hcl('a = "open\n') is None


def test_split_yaml_documents() -> None:
    assert split_yaml("a: 1\n---\nb: 2\n--- # next\nc: 3\n---\n") == ["a: 1", "b: 2", "c: 3"]


def test_differing_keeps_only_items_one_side_lacks() -> None:
    assert differing(["a", "b", "b", "c"], ["b", "c", "d"], "\n") == ("a\nb\n", "d\n")
    assert differing(["a"], ["a"], "\n") == ("", "")
