"""Secret masking for the local engine: the masker itself lives in :mod:`pipeweaver._masking`.

Layer: execution. Kept so that ``pipeweaver.execution._masking`` imports keep working; there
is one masker and one ``MASK`` (tests/security/test_secrets.py checks every place they reach).
"""

from __future__ import annotations

from .._masking import MASK, SECRET_CONFIGURATION_KEYS, Masker

__all__ = ["MASK", "SECRET_CONFIGURATION_KEYS", "Masker"]
