# ruff: noqa: RUF001  (the markdown output uses the multiplication sign, en dash and micro sign on purpose)
"""pipeweaver's benchmark harness: every sample a fresh process, contenders interleaved.

Usage::

    python bench/run.py                 # 7 repetitions of every workload, markdown on stdout
    python bench/run.py --repeat 3      # quicker
    python bench/run.py --only synth,cold --json samples.json
    python bench/run.py --only cold --baseline-src ../main/src   # this checkout vs another, side by side

Each sample runs ``bench/child.py`` (or, for cold starts, the whole command) in a new process;
the child times its own work and the harness reads the child's peak RSS from ``os.wait4``.
Within a repetition the contenders of a workload run back to back, in an order rotated per
repetition, so that drift on a shared machine hits every contender alike. With
``--baseline-src DIR`` every workload gains a contender that runs pipeweaver from *DIR* (another
checkout's ``src``) while ``pipeweaver`` runs this checkout's, both in the same interleaved run,
so that a change is measured against its base under the same machine load.

Children write and read bytecode in a private cache (``PYTHONPYCACHEPREFIX`` in the run's
temporary directory, whatever ``PYTHONDONTWRITEBYTECODE`` says), and every whole-process
contender runs once untimed first: a cold start is measured as an installed package sees it,
with bytecode compiled, and no contender pays compilation that another does not.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import shapes  # noqa: E402


@dataclass
class Sample:
    seconds: float
    max_rss_kb: int
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class Case:
    workload: str
    size: str
    label: str
    contenders: dict[str, list[str]]
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    whole_process: bool = False
    #: Extra environment per contender (``--baseline-src``: which pipeweaver it imports).
    env: dict[str, dict[str, str]] = field(default_factory=dict)


#: Extra environment of the children: set by main() (the bytecode cache, per-contender PYTHONPATH).
CHILD_ENV: dict[str, str] = {}


def measure(command: list[str], *, whole_process: bool, env: dict[str, str] | None = None) -> Sample | str:
    """Run *command* once (with *env* added to :data:`CHILD_ENV`); return its sample, or the reason it produced none."""
    child_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | CHILD_ENV | (env or {})
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=err, cwd=ROOT, env=child_env)
        # wait4 (not Popen.wait) so that the rusage is this child's own, not a running maximum.
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    if whole_process:
        if proc.returncode not in (0, 1):
            return f"exit {proc.returncode}: {(stderr or stdout).strip().splitlines()[-1:]}"
        return Sample(wall, usage.ru_maxrss, {"exit": proc.returncode})
    if proc.returncode != 0:
        return f"exit {proc.returncode}: {stderr.strip().splitlines()[-1:] if stderr.strip() else stdout[-200:]}"
    result = json.loads(stdout.strip().splitlines()[-1])
    if "skipped" in result:
        return str(result["skipped"])
    seconds = float(result.pop("seconds"))
    return Sample(seconds, usage.ru_maxrss, result)


def child(workload: str, contender: str, size: str) -> list[str]:
    return [sys.executable, str(HERE / "child.py"), workload, contender, size]


def cases(validate_file: Path) -> list[Case]:
    out: list[Case] = []
    for size, label in (("3x2", "6 actions"), ("10x10", "100 actions"), ("50x10", "500 actions")):
        out.append(
            Case(
                "synth",
                size,
                f"synth {size} ({label})",
                {c: child("synth", c, size) for c in ("floor", "pipeweaver", "troposphere")},
            )
        )
    for size in ("5x10", "15x10", "50x10"):
        out.append(Case("lint", size, f"lint {size}", {"pipeweaver": child("lint", "pipeweaver", size)}))
    out.append(
        Case("run", "20x25", "local run 20x25 no-op", {c: child("run", c, "20x25") for c in ("floor", "pipeweaver")})
    )
    out.append(
        Case(
            "critical",
            "10x8",
            "critical path 10x8 x 50 ms",
            {c: child("critical", c, "10x8") for c in ("floor", "pipeweaver")},
        )
    )
    python = sys.executable
    cli = shutil.which("pipeweaver") or ""
    out.append(
        Case(
            "cold",
            "import",
            "cold: import pipeweaver",
            {"floor": [python, "-c", "pass"], "pipeweaver": [python, "-c", "import pipeweaver"]},
            whole_process=True,
        )
    )
    validate = (
        [cli, "validate", str(validate_file)] if cli else [python, "-m", "pipeweaver", "validate", str(validate_file)]
    )
    out.append(
        Case(
            "cold",
            "validate",
            "cold: pipeweaver validate FILE (100 actions)",
            {
                "floor": [python, "-c", "pass"],
                # What any click CLI on attrs pays before its own code runs: the part of the
                # ratio to `pass` that pipeweaver's modules cannot remove.
                "click+attrs": [python, "-c", "import attrs, click, json, pathlib"],
                "pipeweaver": validate,
            },
            whole_process=True,
        )
    )
    return out


def cli_has_validate() -> str | None:
    proc = subprocess.run(
        [sys.executable, "-m", "pipeweaver", "validate", "--help"], capture_output=True, text=True, cwd=ROOT
    )
    return None if proc.returncode == 0 else "the CLI has no `validate` command yet"


def add_baselines(all_cases: list[Case], baselines: dict[str, Path]) -> None:
    """Give every case a contender per baseline tree: pipeweaver's command, importing from that tree."""
    for case in all_cases:
        command = case.contenders["pipeweaver"]
        case.env["pipeweaver"] = {"PYTHONPATH": str(ROOT / "src")}
        for name, src in baselines.items():
            case.contenders[name] = command
            case.env[name] = {"PYTHONPATH": str(src)}


def fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.3f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"


def spread(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a"
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return f"{fmt_time(q1)} – {fmt_time(q3)}"


def median(samples: list[Sample]) -> float:
    return statistics.median(s.seconds for s in samples)


def table(all_cases: list[Case]) -> str:
    lines = [
        "| Workload | Contender | Median | IQR | Min – max | Peak RSS | × floor |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for case in all_cases:
        floor = median(case.samples["floor"]) if case.samples.get("floor") else None
        for contender in case.contenders:
            samples = case.samples.get(contender, [])
            if not samples:
                lines.append(f"| {case.label} | {contender} | skipped: {case.skipped.get(contender, '?')} | | | | |")
                continue
            values = [s.seconds for s in samples]
            med = statistics.median(values)
            rss = statistics.median(s.max_rss_kb for s in samples) / 1024
            ratio = f"{med / floor:.2f}" if floor else "—"
            note = ""
            if case.workload == "synth" and contender == "pipeweaver" and not samples[0].facts.get("cloudformation"):
                note = " (no CloudFormation yet)"
            lines.append(
                f"| {case.label} | {contender}{note} | {fmt_time(med)} | {spread(values)} | "
                f"{fmt_time(min(values))} – {fmt_time(max(values))} | {rss:.1f} MB | {ratio} |"
            )
    return "\n".join(lines)


def comparison(all_cases: list[Case], baselines: dict[str, Path]) -> str:
    """pipeweaver (this checkout) against each baseline tree: medians and their ratio."""
    lines = [
        "| Workload | Baseline | Baseline median | This checkout | This / baseline | × floor (baseline → this) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for case in all_cases:
        mine = case.samples.get("pipeweaver")
        floor = median(case.samples["floor"]) if case.samples.get("floor") else None
        for name in baselines:
            base = case.samples.get(name)
            if not mine or not base:
                lines.append(f"| {case.label} | {name} | skipped | | | |")
                continue
            m, b = median(mine), median(base)
            ratios = f"{b / floor:.2f} → {m / floor:.2f}" if floor else "—"
            lines.append(f"| {case.label} | {name} | {fmt_time(b)} | {fmt_time(m)} | {m / b:.2f} | {ratios} |")
    return "\n".join(lines)


def goals(all_cases: list[Case]) -> str:
    def med(workload: str, size: str, contender: str = "pipeweaver") -> float | None:
        case = next((c for c in all_cases if c.workload == workload and c.size == size), None)
        if case is None or not case.samples.get(contender):
            return None
        return median(case.samples[contender])

    rows: list[tuple[str, str, bool | None]] = []
    pw, fl, tr = med("synth", "50x10"), med("synth", "50x10", "floor"), med("synth", "50x10", "troposphere")
    goal = "500 actions build+validate+render ≤ 3× floor"
    rows.append((goal, f"{pw / fl:.2f}× floor", pw / fl <= 3) if pw and fl else (goal, "not measured", None))
    goal = "500 actions ≥ 5× faster than troposphere"
    rows.append((goal, f"{tr / pw:.2f}× faster", tr / pw >= 5) if pw and tr else (goal, "not measured", None))
    small, big = med("lint", "5x10"), med("lint", "50x10")
    goal = "lint grows about linearly (µs/action at 500 ≤ 2× at 50)"
    if small and big:
        rows.append((goal, f"{small / 50 * 1e6:.1f} → {big / 500 * 1e6:.1f} µs/action", big / 500 <= 2 * small / 50))
    else:
        rows.append((goal, "not measured", None))
    run = med("run", "20x25")
    goal = "local run overhead < 150 µs/action (durable history)"
    rows.append((goal, f"{run / 500 * 1e6:.0f} µs/action", run / 500 < 150e-6) if run else (goal, "not measured", None))
    crit = med("critical", "10x8")
    goal = "critical path ratio ≤ 1.05 (ideal 0.5 s)"
    rows.append((goal, f"{crit / 0.5:.3f}", crit / 0.5 <= 1.05) if crit else (goal, "not measured", None))
    imp = med("cold", "import")
    goal = "`import pipeweaver` < 100 ms"
    rows.append((goal, fmt_time(imp), imp < 0.1) if imp else (goal, "not measured", None))
    val = med("cold", "validate")
    goal = "`pipeweaver validate FILE` < 300 ms"
    rows.append((goal, fmt_time(val), val < 0.3) if val else (goal, "not measured", None))

    lines = ["| Goal | Measured | Verdict |", "|---|---:|---|"]
    for text, measured, ok in rows:
        verdict = "—" if ok is None else ("met" if ok else "**missed**")
        lines.append(f"| {text} | {measured} | {verdict} |")
    return "\n".join(lines)


def header(repeat: int) -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    try:
        from importlib.metadata import version

        tropo = version("troposphere")
    except Exception:
        tropo = "not installed"
    return (
        f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs, commit {commit or '?'}, troposphere {tropo}, "
        f"{repeat} samples per cell, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="samples per contender and workload (default 7)")
    parser.add_argument("--only", default="", help="comma-separated workloads: synth,lint,run,critical,cold")
    parser.add_argument("--json", type=Path, help="also write every raw sample to this file")
    parser.add_argument(
        "--baseline-src",
        action="append",
        default=[],
        metavar="[NAME=]DIR",
        help="also run pipeweaver from DIR (another checkout's src), interleaved; repeatable",
    )
    args = parser.parse_args(argv)
    only = {w for w in args.only.split(",") if w}
    baselines: dict[str, Path] = {}
    for spec in args.baseline_src:
        name, _, directory = spec.rpartition("=")
        name = name or ("baseline" if not baselines else f"baseline{len(baselines) + 1}")
        if name in ("floor", "pipeweaver", "troposphere") or name in baselines:
            parser.error(f"--baseline-src: the name {name!r} is taken")
        if not (Path(directory) / "pipeweaver" / "__init__.py").is_file():
            parser.error(f"--baseline-src: {directory} holds no pipeweaver package")
        baselines[name] = Path(directory).resolve()

    with tempfile.TemporaryDirectory(prefix="pw-bench-") as tmp:
        CHILD_ENV["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        validate_file = Path(tmp) / "pipeline.json"
        validate_file.write_text(shapes.dumps({"pipeline": shapes.floor_declaration(10, 10)}))
        selected = [c for c in cases(validate_file) if not only or c.workload in only]
        if baselines:
            add_baselines(selected, baselines)
        no_cli = cli_has_validate()
        for case in selected:
            if case.size == "validate" and no_cli:
                case.skipped["pipeweaver"] = no_cli
        for case in selected:
            if case.whole_process:
                for contender, command in case.contenders.items():
                    measure(command, whole_process=True, env=case.env.get(contender))
        for rep in range(args.repeat):
            for case in selected:
                names = list(case.contenders)
                shift = rep % len(names)
                for contender in names[shift:] + names[:shift]:
                    if contender in case.skipped:
                        continue
                    got = measure(
                        case.contenders[contender], whole_process=case.whole_process, env=case.env.get(contender)
                    )
                    if isinstance(got, str):
                        case.skipped[contender] = got
                        case.samples.pop(contender, None)
                    else:
                        case.samples.setdefault(contender, []).append(got)
            print(f"repetition {rep + 1}/{args.repeat} done", file=sys.stderr)

    for case in selected:
        if case.workload == "lint" and case.samples.get("pipeweaver"):
            errors = case.samples["pipeweaver"][0].facts.get("errors")
            if errors:
                print(f"warning: lint reports errors on the bench pipeline {case.size}: {errors}", file=sys.stderr)

    print(header(args.repeat))
    print()
    print(table(selected))
    print()
    print(goals(selected))
    if baselines:
        print()
        print(", ".join(f"{name}: {src}" for name, src in baselines.items()) + f"; this checkout: {ROOT / 'src'}.")
        print()
        print(comparison(selected, baselines))
    if args.json:
        raw = {
            case.label: {c: [vars(s) for s in samples] for c, samples in case.samples.items()}
            | {"skipped": case.skipped}
            for case in selected
        }
        args.json.write_text(json.dumps(raw, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
