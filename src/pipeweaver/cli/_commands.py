"""Core subcommands: validate, synth, graph, import.

They read a TARGET (see :mod:`._target`), never touch AWS, and write files atomically.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import click

from .. import lint
from .._validate import RULES, RuleInfo
from .._wire import unwrap
from ..errors import Issue
from ._app import logical_id_option, main, write_atomic
from ._policy import LintPolicy, Suppression, find_policy_file, inline_markers, load_policy
from ._target import Loaded, TargetError, load_target, to_pipeline

if TYPE_CHECKING:
    from .. import Pipeline

__all__ = ["Finding", "collect_findings", "render_sarif"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


@attrs.frozen(kw_only=True)
class Finding:
    """One issue in one TARGET, with the file line, and why it is not reported when the policy silences it."""

    target: str
    file: str | None
    line: int | None
    issue: Issue
    suppressed: Suppression | None = None


def _template_resource(data: Any) -> str | None:
    if not isinstance(data, Mapping) or not isinstance(data.get("Resources"), Mapping):
        return None
    ids = [
        k
        for k, v in data["Resources"].items()
        if isinstance(v, Mapping) and v.get("Type") == "AWS::CodePipeline::Pipeline"
    ]
    return ids[0] if len(ids) == 1 else None


def _lint_loaded(loaded: Loaded) -> tuple[list[Issue], str]:
    """Issues of one TARGET and the path prefix their paths are relative to in its file."""
    if loaded.kind == "python":
        assert loaded.pipeline_obj is not None
        return lint(loaded.pipeline_obj), ""
    if loaded.kind == "json":
        declaration, _ = unwrap(loaded.data)
        prefix = "pipeline" if declaration is not loaded.data else ""
        return lint(loaded.data), prefix
    # Templates: lint understands them when the CloudFormation loader is installed; it reports
    # paths inside the template already. Otherwise load the model and lint that.
    resource = _template_resource(loaded.data)
    # The text, not the parsed data: what CloudFormation refuses in YAML itself (aliases, merge
    # keys) is only visible there.
    issues = lint(loaded.text if loaded.text is not None else loaded.data)
    if any(i.path.startswith("Resources.") for i in issues) or not _looks_like_declaration_issues(issues):
        return issues, ""
    pipeline = to_pipeline(loaded)
    return lint(pipeline), f"Resources.{resource}.Properties" if resource else ""


def _looks_like_declaration_issues(issues: list[Issue]) -> bool:
    # A lint that does not know templates reports their top-level keys as unknown fields.
    return any(i.code == "PW001" and i.path in ("Resources", "AWSTemplateFormatVersion") for i in issues) or any(
        i.code == "PW002" and i.path in ("name", "roleArn", "stages") for i in issues
    )


def collect_findings(spec: str, policy: LintPolicy | None = None, *, loaded: Loaded | None = None) -> list[Finding]:
    """Load and lint one TARGET under *policy*; a TARGET that cannot be loaded becomes findings too.

    *loaded* is the TARGET already loaded (a Python target is not run twice).
    """
    policy = policy or LintPolicy()
    try:
        loaded = loaded if loaded is not None else load_target(spec)
        issues, prefix = _lint_loaded(loaded)
    except TargetError as exc:
        if exc.usage:
            raise
        file = spec.split(":", 1)[0] if Path(spec.split(":", 1)[0]).exists() else None
        if exc.issues:
            return [_judged(policy, Finding(target=spec, file=file, line=None, issue=i), {}) for i in exc.issues]
        return [
            Finding(
                target=spec,
                file=file,
                line=exc.line,
                # With the line apart, the message need not repeat the file and line.
                issue=Issue(
                    code="PW000",
                    severity="error",
                    path="",
                    message=exc.detail if exc.line is not None else str(exc),
                    hint=exc.hint,
                ),
            )
        ]
    file = str(loaded.path) if loaded.path is not None else None
    # Mapping paths to lines reads the whole file again; a clean file needs no lines.
    line_of, markers = _lines_of(loaded, prefix) if issues else (None, {})
    findings = [
        _judged(policy, Finding(target=spec, file=file, line=line_of(i.path) if line_of else None, issue=i), markers)
        for i in issues
    ]
    return sorted(findings, key=lambda f: (f.line or 0, f.issue.path, f.issue.code))


def _lines_of(loaded: Loaded, prefix: str) -> tuple[Callable[[str], int | None] | None, dict[int, frozenset[str]]]:
    """How to find an issue's line in the TARGET's file, and the codes its comments silence per line."""
    # Imported here: a clean file needs no lines, and the line maps load the YAML composer and ast.
    from ._lines import LineMap
    from ._pylines import PythonLineMap

    if loaded.kind == "python":
        if loaded.path is None or loaded.pipeline_obj is None:
            return None, {}
        try:
            source = loaded.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None, {}
        return PythonLineMap(source, loaded.pipeline_obj).line_of, inline_markers(source, python=True)
    if loaded.text is None:
        return None, {}
    is_json = loaded.path is not None and loaded.path.suffix.lower() == ".json"
    lines = LineMap(loaded.text, is_json=is_json)
    return (lambda path: lines.line_of(path, prefix)), ({} if is_json else inline_markers(loaded.text, python=False))


def _judged(policy: LintPolicy, finding: Finding, markers: Mapping[int, frozenset[str]]) -> Finding:
    """*finding* graded by the policy, and marked suppressed when the policy or a comment silences it."""
    issue = policy.graded(finding.issue, finding.file)
    suppressed = policy.suppression(issue, finding.file)
    if suppressed is None and finding.line is not None and issue.code in markers.get(finding.line, ()):
        suppressed = Suppression("inSource", f"# pipeweaver: ignore[{issue.code}] on line {finding.line}")
    return attrs.evolve(finding, issue=issue, suppressed=suppressed)


def _text_report(findings_by_target: Mapping[str, list[Finding]]) -> str:
    out: list[str] = []
    for target, everything in findings_by_target.items():
        findings = [f for f in everything if f.suppressed is None]
        if not findings:
            out.append(f"{target}: ok, no issues")
            continue
        for f in findings:
            where = f.file or target
            if f.line is not None:
                where += f":{f.line}"
            path = f.issue.path or "<pipeline>"
            out.append(f"{where}: {f.issue.severity} {f.issue.code} {path}: {f.issue.message}")
            if f.issue.hint:
                out.append(f"    hint: {f.issue.hint}")
    return "\n".join(out)


def _json_report(findings_by_target: Mapping[str, list[Finding]], skipped: Sequence[str] = ()) -> str:
    files = [
        {
            "target": target,
            "issues": [
                {
                    "code": f.issue.code,
                    "severity": f.issue.severity,
                    "path": f.issue.path,
                    "message": f.issue.message,
                    "hint": f.issue.hint,
                    "file": f.file,
                    "line": f.line,
                }
                for f in findings
                if f.suppressed is None
            ],
        }
        for target, findings in findings_by_target.items()
    ]
    everything = [f for fs in findings_by_target.values() for f in fs]
    reported = [f for f in everything if f.suppressed is None]
    body = {
        "targets": files,
        "skipped": [{"target": spec, "reason": "defines no pipeline"} for spec in skipped],
        "errors": sum(1 for f in reported if f.issue.is_error),
        "warnings": sum(1 for f in reported if not f.issue.is_error),
        "suppressed": len(everything) - len(reported),
    }
    return json.dumps(body, indent=2)


def _rule_info(code: str) -> RuleInfo | None:
    return RULES.get(code)


def _why(code: str) -> str | None:
    info = _rule_info(code)
    return info.why if info is not None else None


def _rule_text(code: str, example: Issue) -> str:
    info = _rule_info(code)
    return info.title if info is not None and info.title else example.message


def _sentence(text: str) -> str:
    """*text* ending as a sentence, so a hint appended to a message reads as a second one."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?")) else text + "."


def render_sarif(findings: Sequence[Finding], version: str) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run: rules (one per code seen) and results with locations."""
    codes: dict[str, Issue] = {}
    for f in findings:
        codes.setdefault(f.issue.code, f.issue)
    order = sorted(codes)
    rules = [
        {
            "id": code,
            "name": code,
            "shortDescription": {"text": _rule_text(code, codes[code])},
            "fullDescription": {"text": _why(code) or codes[code].message},
            "defaultConfiguration": {"level": "error" if codes[code].is_error else "warning"},
            "helpUri": f"https://pipeweaver.readthedocs.io/en/latest/rules.html#{code.lower()}",
        }
        for code in order
    ]
    results = []
    for f in findings:
        location: dict[str, Any] = {}
        if f.file is not None:
            physical: dict[str, Any] = {"artifactLocation": {"uri": Path(f.file).as_posix()}}
            if f.line is not None:
                physical["region"] = {"startLine": f.line}
            location["physicalLocation"] = physical
        location["logicalLocations"] = [{"fullyQualifiedName": f.issue.path or "<pipeline>", "kind": "member"}]
        text = _sentence(f.issue.message) + (f" Hint: {_sentence(f.issue.hint)}" if f.issue.hint else "")
        result: dict[str, Any] = {
            "ruleId": f.issue.code,
            "ruleIndex": order.index(f.issue.code),
            "level": "error" if f.issue.is_error else "warning",
            "message": {"text": text},
            "locations": [location],
        }
        if f.suppressed is not None:
            result["suppressions"] = [{"kind": f.suppressed.kind, "justification": f.suppressed.justification}]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "pipeweaver",
                        "version": version,
                        "informationUri": "https://pipeweaver.readthedocs.io",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }


def _version() -> str:
    from importlib.metadata import version

    return version("pipeweaver")


@main.command()
@click.argument("targets", nargs=-1, required=True, metavar="TARGET...")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif"]),
    default="text",
    show_default=True,
    help="text for people; json for scripts; sarif for code-scanning tools.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report to FILE.")
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning"]),
    default=None,
    help="Exit 1 on any error (the default), or on any warning too. Overrides the policy's fail-on.",
)
@click.option(
    "--config",
    "config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The lint policy file (pipeweaver.toml or pyproject.toml); default: the nearest one.",
)
def validate(targets: tuple[str, ...], fmt: str, output: Path | None, fail_on: str | None, config: Path | None) -> None:
    """Check pipelines against every rule AWS enforces; report every issue at once.

    The project's lint policy (the [tool.pipeweaver.lint] table of pyproject.toml, or
    pipeweaver.toml) can ignore or re-grade rules per project and per file. A comment on the
    reported line of a Python or YAML file silences one finding there:

    \b
        # pipeweaver: ignore[PW701]

    Exit status: 0 when nothing at the --fail-on level (default: no errors), 1 otherwise,
    2 for usage errors and a malformed policy.
    """
    policy = load_policy(config if config is not None else find_policy_file(Path.cwd()))
    by_target: dict[str, list[Finding]] = {}
    skipped: list[str] = []
    for spec in targets:
        try:
            by_target[spec] = collect_findings(spec, policy)
        except TargetError as exc:
            # `validate examples/*.py` meets helper modules and tests: skip them, check the rest.
            if not (exc.no_pipeline and len(targets) > 1):
                raise
            skipped.append(spec)
    if not by_target:
        raise TargetError(
            f"none of the {len(targets)} targets defines a pipeline; name one with path.py:NAME", usage=True
        )
    everything = [f for fs in by_target.values() for f in fs]
    reported = [f for f in everything if f.suppressed is None]
    errors = sum(1 for f in reported if f.issue.is_error)
    warnings = len(reported) - errors
    if fmt == "json":
        text = _json_report(by_target, skipped)
    elif fmt == "sarif":
        text = json.dumps(render_sarif(everything, _version()), indent=2)
    else:
        text = _text_report(by_target)
        text += "".join(f"\n{spec}: skipped, defines no pipeline" for spec in skipped)
        text += f"\n{errors} error(s), {warnings} warning(s) in {len(by_target)} target(s)"
        if len(everything) > len(reported):
            text += f" ({len(everything) - len(reported)} suppressed)"
    if output is not None:
        write_atomic(output, text + "\n")
        # As graph and synth do: a run that exits 1 must not be silent about why.
        counts = f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}"
        click.echo(f"wrote {output}: {counts}", err=True)
    else:
        click.echo(text)
    if errors or (warnings and (fail_on or policy.fail_on) == "warning"):
        raise SystemExit(1)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _refuse_invalid(pipeline: Pipeline, target: str, loaded: Loaded, logical_id: str | None) -> None:
    issues = [i for i in lint(pipeline) if i.is_error]
    if not issues:
        return
    # The errors as validate prints them, with file and line; with --logical-id the findings
    # would cover the template's other pipelines too, so they are listed without lines.
    found = [] if logical_id is not None else [f for f in collect_findings(target, loaded=loaded) if f.issue.is_error]
    if len(found) == len(issues):
        shown = _text_report({target: found[:20]})
    else:
        shown = "\n".join(f"{i.code} {i.path or '<pipeline>'}: {i.message}" for i in issues[:20])
    more = f"\n... and {len(issues) - 20} more" if len(issues) > 20 else ""
    raise click.ClickException(
        f"pipeline {pipeline.name} has {len(issues)} error(s), so nothing was written "
        f"(--no-validate writes it anyway):\n{shown}{more}"
    )


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        write_atomic(output, text)
        click.echo(f"wrote {output}", err=True)


@main.command()
@click.argument("target")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["codepipeline", "cloudformation", "python"]),
    default="codepipeline",
    show_default=True,
    help="API JSON for create-pipeline, a CloudFormation template, or Python code.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE (atomically) instead of stdout; .yaml/.yml gives a YAML template.",
)
@click.option("--envelope/--no-envelope", default=False, help='codepipeline: wrap as {"pipeline": ...} with tags.')
@click.option(
    "--validate/--no-validate",
    "check",
    default=True,
    show_default=True,
    help="Refuse to synthesize a pipeline with errors.",
)
@logical_id_option
def synth(target: str, fmt: str, output: Path | None, envelope: bool, check: bool, logical_id: str | None) -> None:
    """Render TARGET as CodePipeline JSON, a CloudFormation template, or Python code."""
    loaded = load_target(target)
    pipeline = to_pipeline(loaded, logical_id=logical_id)
    if check:
        _refuse_invalid(pipeline, target, loaded, logical_id)
    if fmt == "codepipeline":
        from ..synth import dumps

        text = dumps(pipeline, envelope=envelope)
    elif fmt == "cloudformation":
        from ..synth import to_cloudformation

        template = to_cloudformation(pipeline)
        if output is not None and output.suffix.lower() in (".yaml", ".yml"):
            import yaml  # only for a YAML template: `validate` and JSON output never load it

            text = yaml.safe_dump(template, sort_keys=False, allow_unicode=True)
        else:
            text = json.dumps(template, indent=2, ensure_ascii=False) + "\n"
    else:
        from ..synth import to_python

        text = to_python(pipeline)
    _emit(text, output)


@main.command()
@click.argument("target")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot", "svg"]),
    default="mermaid",
    show_default=True,
    help="mermaid and dot are text; svg is drawn by pipeweaver itself (no Graphviz needed).",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE (atomically).")
@logical_id_option
def graph(target: str, fmt: str, output: Path | None, logical_id: str | None) -> None:
    """Draw TARGET's stages, actions and artifact flow."""
    pipeline = to_pipeline(load_target(target), logical_id=logical_id)
    if fmt == "svg":
        from ..report import pipeline_svg

        text = pipeline_svg(pipeline, standalone=True)
    else:
        from ..synth import to_dot, to_mermaid

        text = to_mermaid(pipeline) if fmt == "mermaid" else to_dot(pipeline)
    _emit(text if text.endswith("\n") else text + "\n", output)


@main.command(name="import")
@click.argument("file", type=click.Path(path_type=Path))
@logical_id_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE (atomically).")
def import_(file: Path, logical_id: str | None, output: Path | None) -> None:
    """Turn an API JSON file or a CloudFormation template into pipeweaver Python code."""
    if file.suffix == ".py":
        raise click.UsageError(f"{file}: import reads API JSON or a CloudFormation template, not Python")
    if not file.exists():
        raise click.UsageError(f"{file}: no such file")
    pipeline = to_pipeline(load_target(str(file)), logical_id=logical_id)
    from ..synth import to_python

    _emit(to_python(pipeline), output)
