from __future__ import annotations

from auditor.infra import MAX_PARSE_BYTES, Category, FileKind, Operation, analyse_file

SG = b'resource "aws_security_group" "web" {\n  name = "web"\n}\n'


def test_rename_with_same_content_has_no_changes() -> None:
    result = analyse_file("envs/prod/network.tf", "envs/staging/network.tf", SG, SG)
    assert result.old_path == "envs/staging/network.tf"
    assert result.changes == () and result.errors == () and result.secrets == ()
    assert result.categories == {Category.NETWORK}
    assert result.environment == "prod"


def test_rename_with_edit_diffs_content() -> None:
    after = SG.replace(b'"web"\n', b'"web-v2"\n')
    result = analyse_file("net/sg.tf", "sg.tf", SG, after)
    assert [(c.address, c.operation) for c in result.changes] == [
        ("aws_security_group.web", Operation.MODIFIED)
    ]


def test_huge_file_is_skipped_with_a_reason() -> None:
    huge = b"#" * (MAX_PARSE_BYTES + 1)
    result = analyse_file("network/main.tf", None, SG, huge)
    assert result.changes == ()
    assert result.errors == (
        f"network/main.tf: after not analysed: {MAX_PARSE_BYTES + 1} bytes is over the "
        f"{MAX_PARSE_BYTES} byte limit",
    )
    assert result.categories == {Category.NETWORK}


def test_non_utf8_content_is_reported() -> None:
    result = analyse_file("k8s/app.yaml", None, None, b"kind: Secret\npassword: \xff\xfe\n")
    assert result.errors == (
        "k8s/app.yaml: after not analysed: not UTF-8 text (invalid byte at offset 23)",
    )
    assert result.changes == () and result.secrets == ()


def test_unparseable_kind_gets_path_categories_only() -> None:
    result = analyse_file(".github/workflows/deploy.yml", None, b"on: push\n", b"on: [push]\n")
    assert (result.kind, result.changes, result.categories) == (
        FileKind.GITHUB_ACTIONS,
        (),
        {Category.PIPELINE},
    )


def test_never_raises_on_garbage() -> None:
    garbage = [b"", b"\x00\x01", b"{{{{", b"resource {", b"- - - :", b"---\n- 1\n", b"a: *b\n"]
    for path in (
        "main.tf",
        "x.tfvars",
        "k8s/a.yaml",
        "values.yaml",
        "main.tf.json",
        ".terraform.lock.hcl",
    ):
        for before in garbage:
            for after in garbage:
                result = analyse_file(path, None, before, after)
                assert result.categories
