"""Sphinx configuration for pipeweaver's docs (MyST Markdown, furo theme)."""

from __future__ import annotations

project = "pipeweaver"
author = "The pipeweaver team"
copyright = "2026, The pipeweaver team"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
]
source_suffix = {".md": "markdown"}
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
exclude_patterns = ["_build"]
html_theme = "furo"
html_title = "pipeweaver"
autodoc_member_order = "bysource"
autodoc_typehints = "description"
napoleon_google_docstring = True
nitpicky = False
suppress_warnings = ["myst.header"]
