"""Globs match in linear time and answer exactly as the regular expressions they replaced."""

from __future__ import annotations

import pickle
import random
import re
import subprocess
import sys
import textwrap

import pytest
from globs_reference import codeowners_regex, translate

from auditor.infra import automaton
from auditor.infra.automaton import Automaton
from auditor.infra.codeowners import CodeOwners, pattern_tree
from auditor.infra.globs import compile_globs, compile_path_globs, compile_segment_globs
from auditor.infra.scope import EnvironmentPatterns

REFERENCE_FLAGS = re.S  # ``**`` crosses line breaks (the regexes stopped there)
CASES = 4000  # per dialect; each a random pattern against random paths

# Pieces that meet every branch of the parsers, with separators next to them on purpose.
GLOB_TOKENS = ["a", "b", "/", "/", "*", "**", "?", "{a,b}", "{,a/}", "{a/**,*b}", "{", "}", ","]
FIELD_TOKENS = ["a", "b", ".", ".", "*", "**", "?", "[*]", "[", "]", "{a,.b}", "{a.**,}"]
CODEOWNERS_TOKENS = ["a", "b", "/", "/", "*", "**", "**/", "?", "\\*", "\\", ".", "["]
PATH_CHARS = "ab/ab/.[]\n"


def _random_text(rng: random.Random, pieces: list[str] | str, most: int) -> str:
    return "".join(rng.choice(pieces) for _ in range(rng.randint(0, most)))


def _paths(rng: random.Random, pattern: str) -> list[str]:
    """Random paths, and paths made from the pattern itself (the likelier matches)."""
    found = [_random_text(rng, PATH_CHARS, 8) for _ in range(6)]
    for _ in range(6):
        filled = "".join(
            rng.choice(["", "a", "b/a", "/"]) if c in "*?{},\\" else c for c in pattern
        )
        found.append(filled)
    return found


@pytest.mark.parametrize(("sep", "tokens"), [("/", GLOB_TOKENS), (".", FIELD_TOKENS)])
def test_globs_answer_as_the_regexes_did(sep: str, tokens: list[str]) -> None:
    rng = random.Random(f"globs{sep}")
    compared = matched = 0
    for _ in range(CASES):
        pattern = _random_text(rng, tokens, 6)
        matcher = compile_globs([pattern], sep)
        regex = re.compile(translate(pattern, sep), REFERENCE_FLAGS)
        assert matcher is not None
        for path in _paths(rng, pattern):
            path = path.replace("/", sep)
            expected = regex.fullmatch(path) is not None
            assert matcher.matches(path) == expected, (pattern, path)
            compared += 1
            matched += expected
    assert matched > compared // 10  # the comparison meets matches, not only misses


def test_a_line_break_in_a_name_does_not_take_a_path_out_of_scope() -> None:
    scope = compile_path_globs(["secrets/**", "**/iam/**"])
    assert scope is not None
    assert scope.matches("secrets/a\nb/key.pem")
    assert scope.matches("envs/prod\n/iam/role.tf")
    assert not scope.matches("envs/prod/iamx/role.tf")


def test_several_globs_match_as_their_union() -> None:
    rng = random.Random("union")
    for _ in range(CASES // 4):
        patterns = [_random_text(rng, GLOB_TOKENS, 5) for _ in range(rng.randint(1, 4))]
        matcher = compile_path_globs(patterns)
        segments = compile_segment_globs(patterns)
        plain = compile_globs(patterns, "/")
        union = re.compile("|".join(f"(?:{translate(p, '/')})" for p in patterns), REFERENCE_FLAGS)
        assert matcher is not None and segments is not None and plain is not None
        for path in _paths(rng, patterns[0]):
            assert plain.matches(path) == (union.fullmatch(path) is not None), (patterns, path)
            assert plain.matching(path) == {
                i
                for i, p in enumerate(patterns)
                if re.fullmatch(translate(p, "/"), path, REFERENCE_FLAGS)
            }
            anywhere = ["**/" + p if "/" not in p else p for p in patterns]
            expected = any(re.fullmatch(translate(p, "/"), path, REFERENCE_FLAGS) for p in anywhere)
            assert matcher.matches(path) == expected, (patterns, path)


def test_codeowners_patterns_answer_as_the_regexes_did() -> None:
    rng = random.Random("codeowners")
    compared = matched = 0
    for _ in range(CASES):
        pattern = rng.choice(["", "/"]) + _random_text(rng, CODEOWNERS_TOKENS, 6)
        pattern += rng.choice(["", "", "/", "/*", "/**"])
        if not pattern.strip("/"):
            continue
        matcher = Automaton([pattern_tree(pattern)])
        regex = codeowners_regex(pattern)
        for path in _paths(rng, pattern):
            path = path.strip("/")
            expected = regex.fullmatch(path) is not None
            assert matcher.matches(path) == expected, (pattern, path)
            compared += 1
            matched += expected
    assert matched > compared // 10


def test_codeowners_last_matching_rule_per_section_as_before() -> None:
    rng = random.Random("codeowners-file")
    for _ in range(300):
        lines, rules = [], []
        for number in range(rng.randint(1, 8)):
            if rng.random() < 0.2:
                lines.append(f"[S{number}] @s{number}")
                continue
            pattern = _random_text(rng, CODEOWNERS_TOKENS[:8], 4).replace("\\", "") or "*"
            lines.append(f"{pattern} @o{number}")
            rules.append((len(lines), pattern))
        owners = CodeOwners.parse("\n".join(lines))
        for path in _paths(rng, rules[0][1] if rules else "a"):
            path = path.strip("/").replace("\n", "")
            expected: dict[str, int] = {}
            section = ""
            for line_number, text in enumerate(lines, start=1):
                if text.startswith("["):
                    section = text[1 : text.index("]")]
                    continue
                if codeowners_regex(text.split()[0]).fullmatch(path):
                    expected[section] = line_number
            assert {o.section: o.line for o in owners.owners_of(path)} == expected, (lines, path)


def test_environment_capture_is_the_segment_the_regex_captured() -> None:
    rng = random.Random("environments")
    for _ in range(CASES // 2):
        before = _random_text(rng, GLOB_TOKENS, 4)
        after = _random_text(rng, GLOB_TOKENS, 4)
        pattern = f"{before}<env>{after}"
        regex = re.compile(
            translate(before, "/") + "(?P<env>[^/]+)" + translate(after, "/"), REFERENCE_FLAGS
        )
        patterns = EnvironmentPatterns([pattern], [])
        for path in [*_paths(rng, before + "x" + after), "envs/a/envs/b/c", "a/b/c/d"]:
            found = regex.fullmatch(path)
            expected = found["env"] if found else None
            assert patterns.environment_of(path) == expected, (pattern, path)


def test_built_in_environment_patterns_take_the_innermost_segment() -> None:
    patterns = EnvironmentPatterns(["**/{env,envs}/<env>/**"], [])
    assert patterns.environment_of("envs/prod/envs/dev/main.tf") == "dev"
    assert patterns.environment_of("envs/prod") == "prod"
    assert patterns.environment_of("prod/main.tf") is None


def test_a_matcher_survives_pickling_and_a_full_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    matcher = compile_path_globs(["*.tf", "envs/**/iam/*"])
    assert matcher is not None
    paths = ["main.tf", "a/b.tf", "envs/prod/iam/role.json", "envs/prod/iam/x/role.json", "x"]
    answers = [True, True, True, False, False]
    assert [pickle.loads(pickle.dumps(matcher)).matches(p) for p in paths] == answers
    monkeypatch.setattr(automaton, "_MAX_STATES", 2)  # the memo starts afresh between texts
    assert [matcher.matches(p) for p in paths * 3] == answers * 3


HOSTILE = "*a*a*a*a*a*a*a*a*a*a*a*a*b"


def test_hostile_globs_return_at_once_everywhere_a_glob_is_matched() -> None:
    """The glob that kept a regular expression busy for minutes, through every entry point.

    Run in a child process so that a regression fails after the timeout instead of hanging.
    """
    script = textwrap.dedent(
        f"""
        import time
        from auditor.evaluation.catalog import Override
        from auditor.evaluation.checks.evidence import any_path_matches, path_matches
        from auditor.infra.codeowners import CodeOwners
        from auditor.infra.scope import EnvironmentPatterns
        name = "a" * 60
        long_name = "a" * 5000
        started = time.monotonic()
        owners = CodeOwners.parse("* @acme/platform\\n{HOSTILE} @acme/security\\n")
        assert owners.owners_of(name)[0].owners == ("@acme/platform",)
        assert owners.owners_of(name + "b")[0].owners == ("@acme/security",)
        assert owners.owners_of(long_name)[0].owners == ("@acme/platform",)
        assert not path_matches(["{HOSTILE}"], "dir/" + name)
        assert any_path_matches(["{HOSTILE}"], ["x", "dir/" + name + "b"])
        assert not Override({{}}, ("*",), ("{HOSTILE}",)).applies("r", [name])
        assert not Override({{}}, ("{HOSTILE}",)).applies(name, [])  # repositories: fnmatch
        assert Override({{}}, ("{HOSTILE}",)).applies(name + "b", [])
        env = EnvironmentPatterns(["{HOSTILE}/<env>/**"], [])
        assert env.environment_of(name + "/prod/x") is None
        assert env.environment_of(name + "b/prod/x") == "prod"
        print(round(time.monotonic() - started, 3))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) < 5.0  # measured: a few milliseconds; the regexes: minutes
