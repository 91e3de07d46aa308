"""No docstring says a thing was added in a version later than the package's own."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_versionadded_is_never_past_the_package_version() -> None:
    package = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    later = [
        f"{path.relative_to(ROOT)}: versionadded {found}"
        for path in sorted((ROOT / "src").rglob("*.py"))
        for found in re.findall(r"versionadded:: ([0-9.]+)", path.read_text(encoding="utf-8"))
        if _version(found) > _version(package)
    ]
    assert [] == later, f"the package is {package}"
