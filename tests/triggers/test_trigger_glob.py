"""Glob patterns of trigger filters match exactly as AWS's syntax-glob page describes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeweaver._triggers import compile_glob, glob_match
from pipeweaver.errors import DefinitionError

# (pattern, name, matches, where the expectation comes from)
CASES = [
    # The page's own examples.
    ("*.java", "Main.java", True, "syntax-glob: *.java names a file ending in .java"),
    ("*.java", "Main.class", False, "syntax-glob: *.java"),
    ("*.*", "notes.txt", True, "syntax-glob: *.* names files containing a dot"),
    ("*.*", "Makefile", False, "syntax-glob: *.*"),
    ("*.{java,class}", "Main.class", True, "syntax-glob: *.{java,class}"),
    ("*.{java,class}", "Main.java", True, "syntax-glob: *.{java,class}"),
    ("*.{java,class}", "Main.kt", False, "syntax-glob: *.{java,class}"),
    ("foo.?", "foo.c", True, "syntax-glob: foo.? is foo. and one character"),
    ("foo.?", "foo.cc", False, "syntax-glob: foo.?"),
    ("my-file.jar", "my-file.jar", True, "syntax-glob: a single file at the root"),
    ("my-file.jar", "lib/my-file.jar", False, "syntax-glob: a root file, not one in a subdirectory"),
    ("directory/my-file.jar", "directory/my-file.jar", True, "syntax-glob: a file in a subdirectory"),
    ("directory/subdirectory/my-file.jar", "directory/subdirectory/my-file.jar", True, "syntax-glob"),
    ("**", "any/depth/at/all.txt", True, "syntax-glob: ** names all files"),
    ("directory/**", "directory/a/b/c.txt", True, "syntax-glob: directory/** is everything under directory"),
    ("directory/*", "directory/file.txt", True, "syntax-glob: directory/* is the files of directory"),
    ("directory/*", "directory/sub/file.txt", False, "syntax-glob: ... but not of its subdirectories"),
    # '*' stays in one segment, '**' crosses '/'.
    ("*", "a/b", False, "syntax-glob: * stays within directory boundaries"),
    ("**", "a/b", True, "syntax-glob: ** crosses directory boundaries"),
    ("src/*/main.py", "src/app/main.py", True, "* is one segment"),
    ("src/*/main.py", "src/app/core/main.py", False, "* is one segment"),
    ("src/**/main.py", "src/app/core/main.py", True, "** spans segments"),
    ("?", "/", False, "? is one character of a name component, never the separator"),
    ("a?c", "abc", True, "? is one character"),
    ("a?c", "ac", False, "? is exactly one character"),
    # Character sets.
    ("[abc].txt", "b.txt", True, "[ ] is one character out of a set"),
    ("[abc].txt", "d.txt", False, "[ ] set"),
    ("v[0-9]", "v7", True, "ranges inside [ ]"),
    ("v[0-9]", "vx", False, "ranges inside [ ]"),
    ("[!a-c]x", "dx", True, "! negates a set"),
    ("[!a-c]x", "bx", False, "! negates a set"),
    ("[-a]", "-", True, "syntax-glob: '-' is itself when first inside the brackets"),
    ("[!-a]", "-", False, "syntax-glob: '-' is itself when first after '!'"),
    ("[!-a]", "b", True, "syntax-glob: negated set with a literal '-'"),
    ("[*?\\]", "*", True, "syntax-glob: *, ? and \\ match themselves inside brackets"),
    ("[*?\\]", "\\", True, "syntax-glob: \\ matches itself inside brackets"),
    ("[*?\\]", "x", False, "the set holds only * ? \\"),
    ("[+-0]", "/", False, "a set never matches the name separator, even through a range"),
    # Groups.
    ("{api,web}/**", "web/src/x.ts", True, "syntax-glob: { } is a group of subpatterns"),
    ("{api,web}/**", "cli/src/x.ts", False, "group"),
    ("release-{v0,v1}", "release-v1", True, "group with a shared prefix"),
    ("a,b", "a,b", True, "',' outside a group is an ordinary character"),
    ("}", "}", True, "'}' outside a group is an ordinary character"),
    # Escapes.
    ("\\*", "*", True, "syntax-glob: \\ escapes special characters"),
    ("\\*", "abc", False, "an escaped * is a literal star"),
    ("file\\[1\\].txt", "file[1].txt", True, "escaped brackets"),
    ("\\{a,b\\}", "{a,b}", True, "escaped braces"),
    # Leading dots, case, whole-name matching.
    ("*", ".hidden", True, "leading dots are ordinary characters"),
    ("Main", "main", False, "matching is case-sensitive"),
    ("main", "mainline", False, "a pattern matches the whole name"),
    ("main*", "mainline", True, "pipelines-filter: main* matches branches beginning with main"),
    ("prod*", "prod-config.yml", True, "pipelines-filter: prod* matches file paths beginning with prod"),
    # AWS's pipelines-filter example patterns.
    ("projectA/**", "projectA/src/app.py", True, "pipelines-filter example include"),
    ("common/**/*.js", "common/lib/util.js", True, "pipelines-filter example include"),
    ("common/**/*.js", "common/lib/deep/util.js", True, "** then one more segment"),
    ("**/README.md", "projectA/README.md", True, "pipelines-filter example exclude"),
    ("feature/**", "feature/login/v2", True, "pipelines-filter example branch include"),
    ("release/**", "release/1.2", True, "pipelines-filter example branch include"),
    # Corner cases of the Java rules the page paraphrases: '**' is 'zero or more characters',
    # so the '/' written after or before it must still be there.
    ("**/README.md", "README.md", False, "'**/' needs a '/' to match: a root README.md is not matched"),
    ("common/**/*.js", "common/util.js", False, "'/**/' needs two separators"),
    ("**.md", "README.md", True, "'**.md' matches at any depth, including the root"),
    ("**.md", "docs/guide/intro.md", True, "'**.md' matches at any depth"),
]


@pytest.mark.parametrize(("pattern", "name", "expected", "source"), CASES, ids=[f"{c[0]}~{c[1]}" for c in CASES])
def test_documented_glob_cases(pattern: str, name: str, expected: bool, source: str) -> None:
    """Each documented pattern matches (or not) the name as AWS's pages describe."""
    assert expected == glob_match(pattern, name), source


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("[abc", "never closed with ']'"),
        ("{a,b", "never closed with '}'"),
        ("{a,{b,c}}", "cannot be nested"),
        ("abc\\", "nothing to escape"),
        ("[]", "empty character set"),
        ("[a/b]", "'/' cannot appear inside a character set"),
        ("[z-a]", "invalid range"),
    ],
)
def test_malformed_patterns_are_rejected_with_the_problem_named(pattern: str, problem: str) -> None:
    """A malformed pattern raises DefinitionError saying what is wrong and where."""
    with pytest.raises(DefinitionError) as info:
        compile_glob(pattern)

    assert problem in str(info.value)
    assert pattern == info.value.value


def test_compiled_patterns_are_cached() -> None:
    """Compiling the same pattern twice returns the same compiled object."""
    assert compile_glob("services/**/*.py") is compile_glob("services/**/*.py")


SEGMENT = st.text(alphabet="abcXYZ019._-", min_size=1, max_size=6)


@given(st.lists(SEGMENT, min_size=1, max_size=4))
def test_double_star_matches_every_path_and_single_star_only_one_segment(parts: list[str]) -> None:
    """'**' matches any path; '*' matches exactly the paths without a separator."""
    path = "/".join(parts)

    assert glob_match("**", path)
    assert (len(parts) == 1) == glob_match("*", path)


@given(st.text(alphabet="abc/.*?[]{},!\\-", max_size=12))
def test_a_pattern_with_every_special_character_escaped_matches_only_itself(text: str) -> None:
    """Escaping every character turns any text into a pattern that matches exactly that text."""
    pattern = "".join("\\" + c for c in text)

    assert glob_match(pattern, text)
    assert not glob_match(pattern, text + "x")


def oracle(pattern: str, name: str) -> bool:
    """An independent backtracking reading of the glob rules (no regexes), for the subset
    '*', '**', '?', literals and simple '[...]' / '[!...]' sets."""
    if not pattern:
        return not name
    if pattern.startswith("**"):
        return any(oracle(pattern[2:], name[i:]) for i in range(len(name) + 1))
    if pattern[0] == "*":
        return any(oracle(pattern[1:], name[i:]) for i in range(len(name) + 1) if "/" not in name[:i])
    if not name:
        return False
    if pattern[0] == "?":
        return name[0] != "/" and oracle(pattern[1:], name[1:])
    if pattern[0] == "[":
        end = pattern.index("]", 2 if pattern[1] == "!" else 1)
        body = pattern[1:end]
        negate = body.startswith("!")
        members = set(body[1:] if negate else body)
        ok = name[0] != "/" and ((name[0] not in members) if negate else (name[0] in members))
        return ok and oracle(pattern[end + 1 :], name[1:])
    return pattern[0] == name[0] and oracle(pattern[1:], name[1:])


PIECES = st.sampled_from(["a", "b", "/", ".", "*", "**", "?", "[ab]", "[!a]", "[.b]"])


@given(st.lists(PIECES, max_size=6).map("".join), st.text(alphabet="ab/.", max_size=8))
def test_compiled_globs_agree_with_an_independent_matcher(pattern: str, name: str) -> None:
    """The regex translation and a backtracking matcher written from the rules agree everywhere."""
    assert oracle(pattern, name) == glob_match(pattern, name)
