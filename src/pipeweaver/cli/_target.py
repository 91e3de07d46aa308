"""Turning a command-line TARGET into a pipeline (or into raw data to lint).

A TARGET is ``path.py``, ``path.py:attr``, ``package.module:attr``, an API JSON file or a
CloudFormation template (YAML or JSON). Every failure is a :class:`TargetError` with one
readable message naming what was tried; the commands turn it into exit code 2 (usage) or 1.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .._cfn import load_template
from .._loader import LoadFailure, load_json
from ..errors import DefinitionError, LoadError, PipeweaverError

if TYPE_CHECKING:
    # At run time only where a Python TARGET is read: a JSON or YAML file never needs the model.
    from .. import Pipeline

__all__ = ["Loaded", "TargetError", "load_target", "read_structured"]

Kind = Literal["python", "json", "cloudformation"]

#: Attribute names tried, in order, when a Python TARGET names no attribute.
DEFAULT_ATTRS = ("pipeline", "build_pipeline", "make_pipeline", "create_pipeline")


class TargetError(Exception):
    """A TARGET could not be turned into a pipeline; the message says what was tried."""

    def __init__(
        self,
        message: str,
        *,
        usage: bool = False,
        issues: tuple[Any, ...] = (),
        no_pipeline: bool = False,
        line: int | None = None,
        detail: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.usage = usage
        self.issues = issues
        #: The line of the TARGET's file where building the pipeline failed, when known.
        self.line = line
        #: The message without the file and line (a report that shows them apart), and how to fix it.
        self.detail = detail if detail is not None else message
        self.hint = hint
        #: The target is a Python file that holds no pipeline at all (a helper module, a test file):
        #: a command given several targets skips it instead of stopping.
        self.no_pipeline = no_pipeline


@attrs.frozen(kw_only=True)
class Loaded:
    """What a TARGET held.

    Attributes:
        kind: ``python``, ``json`` (API JSON) or ``cloudformation``.
        data: The parsed file (JSON/YAML targets), else ``None``.
        text: The file's text (JSON/YAML targets), for line numbers.
        path: The file, when the TARGET was one.
    """

    kind: Kind
    spec: str
    data: Any = None
    text: str | None = None
    path: Path | None = None
    pipeline_obj: Pipeline | None = None
    local_sources: Mapping[str, Path] = attrs.field(factory=dict)
    #: The TARGET's ``LOCAL = LocalEmulation(...)``: its stand-ins for AWS in local runs.
    local: Any = None


def _is_template(data: Any) -> bool:
    return isinstance(data, Mapping) and ("Resources" in data or "AWSTemplateFormatVersion" in data)


#: Nesting read from a JSON file: Python's JSON decoder recurses per level, so text deeper than
#: this is refused at once; shallower junk is read and reported by lint (PW004).
_JSON_DEPTH = 500


def read_structured(path: Path) -> tuple[Any, str]:
    """Parse a JSON or YAML file; raise :class:`TargetError` with the line on a syntax error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TargetError(f"{path}: no such file", usage=True) from None
    except IsADirectoryError:
        raise TargetError(f"{path}: is a directory, not a pipeline file", usage=True) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TargetError(f"{path}: cannot be read ({exc})") from None
    if path.suffix.lower() == ".json":
        try:
            # deeper than any declaration, so lint still reports moderate nesting itself (PW004)
            return load_json(text, max_depth=_JSON_DEPTH), text
        except LoadFailure as exc:
            if exc.line is not None:
                raise TargetError(f"{path}:{exc.line}:{exc.column}: not valid JSON: {exc.problem}") from None
            hint = f" ({exc.hint})" if exc.hint else ""
            raise TargetError(f"{path}: JSON that cannot be read: {exc.problem}{hint}") from None
    try:
        # The template loader accepts CloudFormation's short-form tags only, and bounds alias
        # expansion and nesting, so a hostile file is refused instead of exhausting memory.
        return load_template(text), text
    except LoadError as exc:
        detail = "; ".join(i.message for i in exc.issues) or exc.summary
        raise TargetError(f"{path}: {exc.summary}: {detail}") from None


def _model_error(path: Path, exc: PipeweaverError, prefix: str = "") -> TargetError:
    """A pipeweaver error raised while the TARGET's file built its pipeline, at the file's line that raised it."""
    import traceback  # only when the user's code failed

    wanted = path.resolve()
    line = next(
        (
            frame.lineno
            for frame in reversed(traceback.extract_tb(exc.__traceback__))
            if Path(frame.filename).resolve() == wanted
        ),
        None,
    )
    # A DefinitionError keeps its hint apart, so a report can show it as one.
    hint = getattr(exc, "hint", None)
    detail = prefix + (exc.message if isinstance(exc, DefinitionError) else str(exc))
    where = f"{path}:{line}" if line is not None else str(path)
    message = f"{where}: {detail}" + (f"\n    hint: {hint}" if hint else "")
    return TargetError(message, line=line, detail=detail, hint=hint)


def _user_code_error(what: str, exc: BaseException, target: Path | None = None) -> TargetError:
    """An error the user's code raised, at the deepest line of the user's own files.

    The user's files are *target* and the files in its folder and below (the current folder for a
    module TARGET), except installed packages and pipeweaver's own: chosen by where the files are,
    not by the names of their folders, so a project folder named ``pipeweaver`` (or ``examples``)
    is still the user's, and ``<frozen importlib._bootstrap>`` never is.
    """
    import traceback  # only when the user's code failed

    root = target.resolve().parent if target is not None else Path.cwd().resolve()
    own = Path(__file__).resolve().parents[1]  # the pipeweaver package
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if _is_user_file(Path(f.filename), root, own)]
    where = f" (at {mine[-1].filename}:{mine[-1].lineno})" if mine else ""
    # The line in the TARGET's file itself, for a report that shows the file's line apart.
    wanted = target.resolve() if target is not None else None
    in_target = [f for f in mine if wanted is not None and Path(f.filename).resolve() == wanted]
    line = in_target[-1].lineno if in_target else None
    message = f"{what} raised {type(exc).__name__}: {exc}{where}"
    deepest_in_target = bool(in_target) and mine[-1] is in_target[-1]
    detail = f"{what} raised {type(exc).__name__}: {exc}" + ("" if deepest_in_target else where)
    return TargetError(message, line=line, detail=detail)


def _is_user_file(path: Path, root: Path, own: Path) -> bool:
    if not path.is_absolute() and path.name.startswith("<"):
        return False  # <frozen ...>, <string>
    try:
        resolved = path.resolve()
    except OSError:
        return False
    if not resolved.is_relative_to(root) or resolved.is_relative_to(own):
        return False
    # A virtual environment inside the project holds installed code, not the user's.
    return not any(part in ("site-packages", "dist-packages") for part in resolved.relative_to(root).parts)


def _resolve_attr(module: Any, attr: str | None, described: str, path: Path | None = None) -> Pipeline:
    from .. import Pipeline

    candidates = [attr] if attr else list(DEFAULT_ATTRS)
    for name in candidates:
        if not hasattr(module, name):
            continue
        value = getattr(module, name)
        if isinstance(value, Pipeline):
            return value
        if callable(value):
            try:
                produced = value()
            except PipeweaverError as exc:
                if path is not None:
                    raise _model_error(path, exc, f"{name}() failed: ") from None
                raise TargetError(f"{described}:{name}() failed: {exc}") from None
            except Exception as exc:
                raise _user_code_error(f"{described}:{name}()", exc, path) from None
            if isinstance(produced, Pipeline):
                return produced
            raise TargetError(
                f"{described}:{name}() returned {type(produced).__name__}, not a pipeweaver.Pipeline", usage=True
            )
        raise TargetError(
            f"{described}:{name} is a {type(value).__name__}, not a pipeweaver.Pipeline or a function returning one",
            usage=True,
        )
    if attr:
        raise TargetError(f"{described} has no attribute {attr!r}", usage=True)
    found = [n for n, v in vars(module).items() if isinstance(v, Pipeline) and not n.startswith("_")]
    if len(found) == 1:
        return getattr(module, found[0])  # type: ignore[no-any-return]
    tried = ", ".join(DEFAULT_ATTRS)
    if found:
        raise TargetError(
            f"{described} defines several pipelines ({', '.join(found)}); pick one with {described}:NAME", usage=True
        )
    raise TargetError(
        f"{described} defines no pipeline: tried the attributes {tried} and module-level Pipeline objects; "
        f"name one with {described}:NAME",
        usage=True,
        no_pipeline=True,
    )


#: A Python TARGET may say where its sources live for local runs: ``LOCAL_SOURCES = {"Source": "app"}``.
LOCAL_SOURCES_ATTR = "LOCAL_SOURCES"


def _local_sources(module: Any, base: Path) -> dict[str, Path]:
    value = getattr(module, LOCAL_SOURCES_ATTR, None)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TargetError(f"{LOCAL_SOURCES_ATTR} must map source action names to folders, not {type(value).__name__}")
    return {str(k): (base / Path(v)) if not Path(v).is_absolute() else Path(v) for k, v in value.items()}


#: A Python TARGET may give all its local stand-ins at once: ``LOCAL = LocalEmulation(functions=..., ...)``.
LOCAL_ATTR = "LOCAL"


def _local_emulation(module: Any, base: Path) -> Any:
    """The module's ``LOCAL``, with relative source folders and buildspec files taken from *base*."""
    value = getattr(module, LOCAL_ATTR, None)
    if value is None:
        return None
    # Imported here: validating a file must not load the engine.
    from ..execution import LocalEmulation

    if not isinstance(value, LocalEmulation):
        raise TargetError(
            f"{LOCAL_ATTR} must be a pipeweaver.execution.LocalEmulation(sources=..., functions=..., buildspecs=..., "
            f"handlers=...), not {type(value).__name__}"
        )

    def here(item: Any) -> Any:
        if isinstance(item, Path | str) and "\n" not in str(item) and not Path(item).is_absolute():
            candidate = base / Path(item)
            return candidate if candidate.exists() else item
        return item

    def spec_here(item: Any) -> Any:
        # A buildspec path is the file's neighbour even when it is missing, so that the error
        # names the file looked for; text with a line break or a version key is the YAML itself.
        if isinstance(item, str) and ("\n" in item or "version:" in item):
            return item
        if isinstance(item, Path | str) and not Path(item).is_absolute():
            return base / Path(item)
        return item

    return attrs.evolve(
        value,
        sources={k: here(v) for k, v in value.sources.items()},
        buildspecs={k: spec_here(v) for k, v in value.buildspecs.items()},
    )


def _load_python_file(path: Path, attr: str | None, spec: str) -> tuple[Pipeline, dict[str, Path], Any]:
    # Random like uuid4, without importing uuid (and platform) into every command.
    module_name = f"_pipeweaver_target_{os.urandom(4).hex()}"
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    if module_spec is None or module_spec.loader is None:
        raise TargetError(f"{path}: cannot be imported as Python", usage=True)
    module = importlib.util.module_from_spec(module_spec)
    # The file's folder goes first on sys.path so it can import its neighbours, as `python file.py` would.
    sys.path.insert(0, str(path.resolve().parent))
    sys.modules[module_name] = module
    try:
        module_spec.loader.exec_module(module)
    except PipeweaverError as exc:
        raise _model_error(path, exc) from None
    except SyntaxError as exc:
        raise TargetError(f"{exc.filename}:{exc.lineno}: syntax error: {exc.msg}") from None
    except Exception as exc:
        raise _user_code_error(f"importing {path}", exc, path) from None
    pipeline = _resolve_attr(module, attr, str(path) if attr is None else spec.rsplit(":", 1)[0], path)
    base = path.resolve().parent
    return pipeline, _local_sources(module, base), _local_emulation(module, base)


def _load_module(name: str, attr: str | None, spec: str) -> tuple[Pipeline, dict[str, Path], Any]:
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        raise TargetError(
            f"{spec!r} is not a file, and importing module {name!r} failed: {exc}. "
            f"TARGET is path.py, path.py:NAME, package.module:NAME, an API JSON file or a CloudFormation template",
            usage=True,
        ) from None
    except PipeweaverError as exc:
        raise TargetError(f"module {name}: {exc}") from None
    except Exception as exc:
        raise _user_code_error(f"importing module {name}", exc) from None
    return _resolve_attr(module, attr, name), _local_sources(module, Path.cwd()), _local_emulation(module, Path.cwd())


def load_target(spec: str) -> Loaded:
    """Read *spec* without building a model for data targets (so ``validate`` can lint raw data).

    Python targets are imported and their pipeline built; JSON/YAML targets are parsed only.
    """
    path_part, sep, attr = spec.partition(":")
    # A Windows drive letter or a path containing ':' is a file when it exists as a whole.
    if Path(spec).exists():
        path_part, attr, sep = spec, "", ""
    path = Path(path_part)
    if path.suffix == ".py":
        if not path.is_file():
            raise TargetError(f"{path}: no such file", usage=True)
        pipeline, sources, local = _load_python_file(path, attr or None, spec)
        return Loaded(kind="python", spec=spec, path=path, pipeline_obj=pipeline, local_sources=sources, local=local)
    if path.suffix.lower() in (".json", ".yaml", ".yml", ".template", ".cfn"):
        data, text = read_structured(path)
        kind: Kind = "cloudformation" if _is_template(data) else "json"
        return Loaded(kind=kind, spec=spec, data=data, text=text, path=path)
    if path.exists():
        raise TargetError(
            f"{path}: unknown kind of file; TARGET is a .py file, an API .json file or a CloudFormation "
            f".yaml/.yml/.json/.template",
            usage=True,
        )
    if sep and attr and all(part.isidentifier() for part in path_part.split(".")):
        pipeline, sources, local = _load_module(path_part, attr, spec)
        return Loaded(kind="python", spec=spec, pipeline_obj=pipeline, local_sources=sources, local=local)
    raise TargetError(
        f"{spec!r}: no such file, and not a 'package.module:NAME' reference. "
        f"TARGET is path.py, path.py:NAME, package.module:NAME, an API JSON file or a CloudFormation template",
        usage=True,
    )


def to_pipeline(
    loaded: Loaded, *, logical_id: str | None = None, parameters: Mapping[str, str] | None = None
) -> Pipeline:
    """Build the model from a loaded TARGET (raising :class:`TargetError` on bad data).

    *parameters* (a template's) choose its ``Fn::If`` branches, as on deployment.
    """
    where = str(loaded.path or loaded.spec)
    if logical_id is not None and loaded.kind != "cloudformation":
        # Silently ignoring it would let a user believe they chose one pipeline of several.
        raise TargetError(
            f"{where}: --logical-id {logical_id} chooses a pipeline of a CloudFormation template; "
            "this TARGET is not one (leave --logical-id out)",
            usage=True,
        )
    if loaded.pipeline_obj is not None:
        return loaded.pipeline_obj
    # imported here: `validate` lints a file's data and does not pay for the synth package
    from ..synth import from_cloudformation, from_codepipeline

    try:
        if loaded.kind == "cloudformation":
            return from_cloudformation(loaded.data, logical_id=logical_id, parameters=parameters)
        return from_codepipeline(loaded.data)
    except LoadError as exc:
        raise TargetError(f"{where}: {exc}", issues=exc.issues) from None
    except PipeweaverError as exc:
        raise TargetError(f"{where}: {exc}") from None
