"""What an audit pack may replace, leave behind, follow or run; what ``verify`` refuses."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from reportfactory import build_report

from auditor.errors import DefinitionError, RenderError, UsageError
from auditor.evidence.workdirs import OWNER_FILE, remove_stale, work_dir
from auditor.render import Format, RenderOptions, verify_pack, write_pack
from auditor.render.pack import not_a_pack

CSV = RenderOptions(formats=(Format.CSV,))
HTML = RenderOptions(formats=(Format.HTML,))


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def pdf_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pdf")
    options = RenderOptions(formats=(Format.PDF, Format.CSV, Format.JSON))
    return write_pack(build_report(changes=6, sample=0), root / "pack", options).path


def copy(pack: Path, to: Path) -> Path:
    shutil.copytree(pack, to, symlinks=True)
    return to


# -- --force replaces only a pack ----------------------------------------------------------------


def test_force_refuses_a_stray_empty_manifest_and_loses_nothing(tmp_path: Path) -> None:
    out = tmp_path / "notes"
    (out / "deep").mkdir(parents=True)
    (out / "MANIFEST.sha256").write_text("")
    (out / "plan.txt").write_text("mine")
    (out / "deep" / "draft.md").write_text("also mine")
    before = files(out)
    with pytest.raises(UsageError) as err:
        write_pack(build_report(changes=3), out, CSV, replace=True)
    assert str(err.value) == (
        f"{out} is not an audit pack (MANIFEST.sha256 lists no file); not replacing it"
    )
    assert files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes"]


def test_force_refuses_a_pack_holding_a_file_its_manifest_does_not_list(tmp_path: Path) -> None:
    pack = write_pack(build_report(changes=3), tmp_path / "pack", CSV).path
    (pack / "csv" / "mine.csv").write_text("kept\r\n")
    (pack / "zz.txt").write_text("kept too")
    assert not_a_pack(pack) == "csv/mine.csv and 1 more not listed in MANIFEST.sha256"
    with pytest.raises(UsageError) as err:
        write_pack(build_report(changes=3), pack, CSV, replace=True)
    assert "(csv/mine.csv and 1 more not listed in MANIFEST.sha256)" in str(err.value)
    assert (pack / "csv" / "mine.csv").read_bytes() == b"kept\r\n"


def test_force_replaces_an_edited_pack(tmp_path: Path) -> None:
    pack = write_pack(build_report(changes=3), tmp_path / "pack", CSV).path
    (pack / "csv" / "changes.csv").write_text("edited\r\n")
    (pack / "csv" / "controls.csv").unlink()
    assert not_a_pack(pack) is None
    write_pack(build_report(changes=3), pack, CSV, replace=True)
    assert verify_pack(pack) == []
    assert b"edited" not in (pack / "csv" / "changes.csv").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack"]


def test_force_refuses_a_malformed_manifest(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "MANIFEST.sha256").write_text(f"{'0' * 64}  a.txt\nnot a manifest line\n")
    (out / "a.txt").write_text("mine")
    assert not_a_pack(out) == "malformed: MANIFEST.sha256 line 2"


# -- work directories of killed runs ---------------------------------------------------------------


def test_a_killed_writer_leaves_a_work_directory_the_next_pack_removes(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from auditor.evidence.workdirs import work_dir
        with work_dir(Path({str(tmp_path)!r}), "pack") as staged:
            (staged.content / "report.pdf").write_bytes(b"half")
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    killed = subprocess.run([sys.executable, "-c", script], check=False)
    assert killed.returncode == -signal.SIGKILL
    [stale] = tmp_path.iterdir()
    assert stale.name.startswith(".pack.") and stale.name.endswith(".partial")
    assert (stale / OWNER_FILE).read_text().strip().isdigit()
    theirs = tmp_path / ".backup.partial"  # not ours: no owner marker
    theirs.mkdir()
    (theirs / "data").write_text("keep")
    write_pack(build_report(changes=3), tmp_path / "pack", CSV)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".backup.partial", "pack"]
    assert (theirs / "data").read_text() == "keep"


def test_a_work_directory_whose_owner_runs_is_left_alone(tmp_path: Path) -> None:
    with work_dir(tmp_path, "pack") as running:
        assert remove_stale(tmp_path) == []
        assert running.root.is_dir()
    assert list(tmp_path.iterdir()) == []


# -- verify ----------------------------------------------------------------------------------------


def test_verify_refuses_links_and_special_files(pdf_pack: Path, tmp_path: Path) -> None:
    pack = copy(pdf_pack, tmp_path / "pack")
    outside = tmp_path / "evidence.json"
    shutil.copyfile(pack / "evidence.json", outside)
    (pack / "evidence.json").unlink()
    (pack / "evidence.json").symlink_to(outside)  # identical bytes, outside the pack
    (pack / "csv" / "passwd.csv").symlink_to("/etc/passwd")
    (pack / "linked").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(pack / "csv" / "pipe")  # would block a reader
    assert verify_pack(pack) == [
        "link: evidence.json",
        "link: linked",
        "link: csv/passwd.csv",
        "not a regular file: csv/pipe",
    ]


def test_verify_refuses_a_linked_manifest(pdf_pack: Path, tmp_path: Path) -> None:
    pack = copy(pdf_pack, tmp_path / "pack")
    shutil.move(pack / "MANIFEST.sha256", tmp_path / "MANIFEST.sha256")
    (pack / "MANIFEST.sha256").symlink_to(tmp_path / "MANIFEST.sha256")
    assert verify_pack(pack) == ["link: MANIFEST.sha256"]


def test_verify_checks_the_pdf_cover_digest_against_the_manifest(
    pdf_pack: Path, tmp_path: Path
) -> None:
    assert verify_pack(pdf_pack) == []
    pack = copy(pdf_pack, tmp_path / "pack")
    findings = pack / "csv" / "findings.csv"
    findings.write_bytes(findings.read_bytes().replace(b",fail,", b",pass,"))
    lines = (pack / "MANIFEST.sha256").read_text().splitlines(keepends=True)
    digest = hashlib.sha256(findings.read_bytes()).hexdigest()
    rewritten = [
        f"{digest}  csv/findings.csv\n" if line.endswith("  csv/findings.csv\n") else line
        for line in lines
    ]
    (pack / "MANIFEST.sha256").write_text("".join(rewritten))
    evidence = "".join(line for line in rewritten if not line.endswith("  report.pdf\n"))
    stated = "".join(line for line in lines if not line.endswith("  report.pdf\n"))
    [problem] = verify_pack(pack)
    assert problem == (
        f"cover: report.pdf states evidence manifest SHA-256"
        f" {hashlib.sha256(stated.encode()).hexdigest()}; MANIFEST.sha256 without its"
        f" report.pdf line has {hashlib.sha256(evidence.encode()).hexdigest()}"
    )


def test_verify_refuses_a_pdf_stating_no_digest(pdf_pack: Path, tmp_path: Path) -> None:
    pack = copy(pdf_pack, tmp_path / "pack")
    pdf = pack / "report.pdf"
    pdf.write_bytes(pdf.read_bytes().replace(b"evidenceManifestSHA256", b"somethingElseEntirely"))
    lines = (pack / "MANIFEST.sha256").read_text().splitlines(keepends=True)
    digest = hashlib.sha256(pdf.read_bytes()).hexdigest()
    (pack / "MANIFEST.sha256").write_text(
        "".join(f"{digest}  report.pdf\n" if "  report.pdf" in ln else ln for ln in lines)
    )
    assert verify_pack(pack) == [
        "cover: report.pdf states no evidence manifest digest that can be read"
    ]


def test_the_cover_text_states_the_digest_verify_reads(pdf_pack: Path) -> None:
    from pypdf import PdfReader

    from auditor.render import xmp

    [digest] = xmp.stated_digests((pdf_pack / "report.pdf").read_bytes())
    cover = PdfReader(pdf_pack / "report.pdf").pages[0].extract_text()
    assert digest in "".join(cover.split())


# -- what a template or control directory can reach ------------------------------------------------

ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('touch {marker}').read() }}",
    "{{ joiner.__init__.__globals__.os.popen('touch {marker}').read() }}",
    "{{ namespace.__init__.__globals__.os.popen('touch {marker}').read() }}",
    "{{ lipsum.__globals__['os'].popen('touch {marker}').read() }}",
    "{{ self._TemplateReference__context.cycler.__init__.__globals__.os.system('touch {marker}')"
    " }}",
]


@pytest.mark.parametrize("escape", ESCAPES)
def test_a_user_template_cannot_run_a_command(tmp_path: Path, escape: str) -> None:
    marker = tmp_path / "ran"
    templates = tmp_path / "templates"
    (templates / "html").mkdir(parents=True)
    (templates / "html" / "index.html").write_text(escape.replace("{marker}", str(marker)))
    options = RenderOptions(formats=(Format.HTML,), template_dir=templates)
    with pytest.raises(RenderError, match="unsafe"):
        write_pack(build_report(changes=3), tmp_path / "pack", options)
    assert not marker.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["templates"]


def test_a_template_linking_outside_its_directory_is_refused(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    (templates / "html").mkdir(parents=True)
    (templates / "html" / "index.html").symlink_to("/etc/passwd")
    options = RenderOptions(formats=(Format.HTML,), template_dir=templates)
    with pytest.raises(RenderError) as err:
        write_pack(build_report(changes=3), tmp_path / "pack", options)
    assert str(err.value) == (
        f"{templates / 'html' / 'index.html'}: leads outside the template directory; refused"
    )
    assert not (tmp_path / "pack").exists()


def test_a_link_inside_the_template_directory_is_followed(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    (templates / "html").mkdir(parents=True)
    (templates / "mine.css").write_text("body { color: teal }\n")
    (templates / "html" / "site.css").symlink_to(templates / "mine.css")
    pack = write_pack(
        build_report(changes=3),
        tmp_path / "pack",
        RenderOptions((Format.HTML,), template_dir=templates),
    ).path
    assert (pack / "assets" / "site.css").read_text() == "body { color: teal }\n"


def test_shipped_templates_render_the_same_in_the_sandbox(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    formats = (Format.PDF, Format.HTML)
    plain = write_pack(build_report(changes=4), tmp_path / "a", RenderOptions(formats)).path
    sandboxed = RenderOptions(formats, template_dir=tmp_path / "empty")
    boxed = write_pack(build_report(changes=4), tmp_path / "b", sandboxed).path
    assert files(plain) == files(boxed)


def test_a_control_file_linking_outside_its_directory_is_refused(tmp_path: Path) -> None:
    from auditor.evaluation.catalog import load_catalog, validate_dir
    from auditor.resources import controls_dir

    controls = tmp_path / "controls"
    controls.mkdir()
    shipped = controls_dir() / "CHG-08-freeze-window.yaml"
    (controls / "CHG-08.yaml").symlink_to(shipped)
    problem = f"{controls / 'CHG-08.yaml'}: leads outside the control directory; refused"
    assert validate_dir(controls) == [problem]
    with pytest.raises(DefinitionError) as err:
        load_catalog([controls])
    assert str(err.value) == problem


def test_a_killed_clone_leaves_a_work_directory_the_next_clone_removes(
    tmp_path: Path,
) -> None:
    from gitrepo import GitRepo

    from auditor.runs.clones import cache_name, mirror

    upstream = GitRepo(tmp_path / "upstream")
    upstream.commit("Add the network", {"main.tf": "# vpc\n"})
    url = f"file://{upstream.path}"
    cache = tmp_path / "cache"
    stale = cache / f".{cache_name(url)}.k1ll3d.partial"
    stale.mkdir(parents=True)
    (stale / "HEAD").write_text("ref: refs/heads/main\n")
    mirrored = mirror(url, cache)
    assert sorted(p.name for p in cache.iterdir() if p.suffix != ".lock") == [mirrored.name]


def test_a_refused_escape_in_a_forked_renderer_names_its_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditor import forked
    from auditor.render import pack

    monkeypatch.setattr(pack, "CONCURRENT_MIN_CHANGES", 1)
    monkeypatch.setattr(forked, "available_cores", lambda: 2)
    page = tmp_path / "templates" / "html" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text("<p>\n{{ cycler.__init__.__globals__.os.popen('id').read() }}</p>\n")
    options = RenderOptions((Format.HTML, Format.JSON), template_dir=tmp_path / "templates")
    with pytest.raises(RenderError) as err:
        write_pack(build_report(changes=3), tmp_path / "pack", options)
    assert str(err.value) == (
        f"template error in {page}, line 2:"
        " access to attribute '__init__' of 'type' object is unsafe."
    )
