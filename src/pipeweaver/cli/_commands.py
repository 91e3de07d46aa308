"""Core subcommands (validate, synth, graph, import, run, history, ...)."""

from __future__ import annotations
