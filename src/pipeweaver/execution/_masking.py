"""Secret masking: every string bound for a log, an event or the history passes through here.

Layer: execution. A :class:`Masker` holds the secret values known to one execution (values
from the local secret store, SECRETS_MANAGER environment variables, secret configuration keys
and values registered by the user) and replaces each occurrence with ``****``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping

__all__ = ["MASK", "SECRET_CONFIGURATION_KEYS", "Masker"]

MASK = "****"

#: Configuration keys AWS documents as secret (GitHub v1 and Alexa Skills Kit, reference §3.1).
SECRET_CONFIGURATION_KEYS = frozenset({"OAuthToken", "ClientSecret", "RefreshToken"})


class Masker:
    """Replaces every known secret value in text with ``****`` (thread-safe, grows over a run)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, values: Iterable[str]) -> None:
        """Register more secret values (empty strings are ignored: they cannot be masked)."""
        fresh = {v for v in values if v and v not in self._values}
        if not fresh:
            return
        with self._lock:
            self._values |= fresh
            # Longest first, so a secret that contains another is masked whole.
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    @property
    def values(self) -> frozenset[str]:
        """The registered secret values."""
        return frozenset(self._values)

    def __call__(self, text: str) -> str:
        pattern = self._pattern
        if pattern is None or not text:
            return text
        return pattern.sub(MASK, text)

    def mapping(self, data: Mapping[str, str]) -> dict[str, str]:
        """Mask every value of *data*, and blank the values of keys AWS treats as secret."""
        return {k: MASK if k in SECRET_CONFIGURATION_KEYS else self(v) for k, v in data.items()}

    def __repr__(self) -> str:
        return f"<Masker with {len(self._values)} secret(s)>"
