"""Secret masking: the one masker and the one ``****`` every layer uses.

Layer: names (beside the provider catalog), so the model's reprs, the local engine, the
report and the AWS edge all import the same :class:`Masker` and :data:`MASK`.

A :class:`Masker` holds secret values and replaces each occurrence with ``****``, and also
the forms a secret takes once something encodes it:

* base64, standard and URL-safe, with and without ``=`` padding, of the value alone, and the
  stable middle of the value's base64 at each of the three byte offsets it can start at inside
  longer data (``user:secret`` in a Basic auth header): up to three characters at each end of
  such a run depend on the neighbouring bytes and stay, which reveals at most two bytes of
  the secret per end;
* JSON-escaped (``\\n``, ``\\"``, ``\\u00e9`` ...), URL-encoded (``%2F`` or ``+`` for a space,
  upper- or lower-case hex) and HTML-escaped.

Multi-line secrets (a PEM key) reach logs one line at a time, so no single line holds the
whole value. The rule: each line of a multi-line secret is masked on its own when, stripped
of surrounding whitespace, it is at least :data:`MIN_LINE` characters long and holds no
whitespace. Key material (a PEM key's base64 lines, a token) passes that test; armour such as
``-----BEGIN PRIVATE KEY-----``, blank lines, short lines and prose-like lines (``"type":
"service_account",``) do not, so they never cause masking of every occurrence of common text.
The whole value is still masked wherever it appears in one piece (an error message, a report).
"""

from __future__ import annotations

import base64
import html
import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import quote, quote_plus

from ._catalog import SECRET_KEYS
from ._wire import SECRET_REFERENCE

__all__ = ["MASK", "MIN_ENCODED", "MIN_LINE", "SECRET_CONFIGURATION_KEYS", "Masker", "forms", "is_secret"]

#: What a masked value becomes, everywhere (and what GetPipeline shows for a secret).
MASK: Final = "****"

#: Configuration keys AWS documents as secret (GitHub v1 and Alexa Skills Kit, reference §3.1).
SECRET_CONFIGURATION_KEYS: Final = SECRET_KEYS


def is_secret(key: object, value: object, keys: frozenset[str] = SECRET_CONFIGURATION_KEYS) -> bool:
    """
    Whether a configuration *value* is secret: a non-empty text under one of the secret *keys*
    (AWS's own by default), or a CloudFormation dynamic reference to a secret
    (``{{resolve:secretsmanager:...}}``, ``{{resolve:ssm-secure:...}}``) under any key, since
    the value CloudFormation puts there is one.
    """
    if not isinstance(value, str) or not value:
        return False
    return key in keys or SECRET_REFERENCE.search(value) is not None


#: Shortest line of a multi-line secret that is masked on its own.
MIN_LINE: Final = 8

#: Shortest partial (offset) base64 run that is masked: shorter runs would match by chance.
MIN_ENCODED: Final = 8

#: Values that look like credentials, masked by ``Masker(patterns=True)`` even when undeclared.
_CREDENTIAL_PATTERNS: Final = (
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    re.compile(r"(?i)\b(password|passwd|secret|token|api[_-]?key)(\s*[=:]\s*)(\S+)"),
)

_PERCENT = re.compile(r"%[0-9A-F]{2}")


def _base64_forms(raw: bytes) -> set[str]:
    out: set[str] = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(raw).decode("ascii")
        out |= {whole, whole.rstrip("=")}
        # The secret followed by more data: its last partial group depends on what follows.
        start = whole[:-4] if len(raw) % 3 else whole
        if len(start) >= MIN_ENCODED:
            out.add(start)
        for offset in (1, 2):
            # The secret starting *offset* bytes into a 3-byte group: the first 4-character
            # group mixes in the bytes before it, a last partial group the bytes after it.
            text = encode(b"\0" * offset + raw).decode("ascii").rstrip("=")
            middle = text[4 : len(text) - len(text) % 4]
            if len(middle) >= MIN_ENCODED:
                out.add(middle)
    return out


def _text_forms(value: str) -> set[str]:
    out = {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        html.escape(value),
        html.escape(value, quote=False),
    }
    for url in (quote(value), quote(value, safe=""), quote_plus(value), quote_plus(value, safe="")):
        out |= {url, _PERCENT.sub(lambda m: m.group().lower(), url)}
    return out


def _trie_pattern(words: Iterable[str]) -> str:
    """One regex matching any of *words*, longest first, shaped as a trie.

    An alternation of hundreds of literals (a PEM key's lines and their encodings) is tried one
    literal at a time at every position of every log line; a trie makes each position cost
    about one character comparison when nothing matches.
    """
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = None

    def build(node: dict[str, Any]) -> str:
        # Follow single-child chains iteratively: words are long, branch points are few.
        chain: list[str] = []
        while len(node) == 1 and "" not in node:
            [(char, node)] = node.items()
            chain.append(char)
        out = [re.escape("".join(chain))]
        ends = "" in node
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if branches:
            group = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
            # Greedy: a longer secret form wins over a shorter one starting at the same place.
            out.append(f"(?:{group})?" if ends else group)
        return "".join(out)

    return build(root)


def _distinctive(line: str) -> bool:
    return len(line) >= MIN_LINE and not any(c.isspace() for c in line)


def forms(value: str) -> set[str]:
    """Every string masked for the secret *value*: itself, its encodings, its distinctive lines."""
    if not value:
        return set()
    found = _text_forms(value) | _base64_forms(value.encode("utf-8"))
    if value.strip() and value.strip() != value:
        # Read from a file or a prompt with its newline; commands print it without.
        found |= forms(value.strip())
    lines = value.splitlines()
    if len(lines) > 1:
        found |= _text_forms("\n".join(lines)) | _text_forms("\r\n".join(lines))
        for line in lines:
            stripped = line.strip()
            if _distinctive(stripped):
                found |= _text_forms(stripped) | _base64_forms(stripped.encode("utf-8"))
    return {f for f in found if f}


class Masker:
    """
    Replaces every known secret value, and its encoded forms, with ``****``.

    Thread-safe; grows over a run as secrets are resolved. Calling it masks one string; each
    line of a multi-line secret that passes the :data:`MIN_LINE` rule is masked on its own, so
    a key logged line by line is masked too.

    Args:
        secrets: Initial secret values (empty strings are ignored: they cannot be masked).
        patterns: Also mask values that look like credentials (``AKIA...`` access key ids,
            ``password=...``, ``token: ...``) even when nobody declared them secret.

    .. versionadded:: 0.1.0
    """

    def __init__(self, secrets: Iterable[str] = (), *, patterns: bool = False) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._patterns = patterns
        self.add(secrets)

    def add(self, values: Iterable[str]) -> None:
        """Register more secret values (empty strings are ignored)."""
        fresh = {v for v in values if v and v not in self._values}
        if not fresh:
            return
        with self._lock:
            self._values |= fresh
            for value in fresh:
                self._forms |= forms(value)
            try:
                self._pattern = re.compile(_trie_pattern(self._forms))
            except (RecursionError, re.error):
                # Pathologically nested forms: a plain alternation, longest first, does the same.
                ordered = sorted(self._forms, key=lambda f: (-len(f), f))
                self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    @property
    def values(self) -> frozenset[str]:
        """The registered secret values."""
        return frozenset(self._values)

    def __call__(self, text: str) -> str:
        pattern = self._pattern
        if text and pattern is not None:
            text = pattern.sub(MASK, text)
        if text and self._patterns:
            text = _CREDENTIAL_PATTERNS[0].sub(MASK, text)
            text = _CREDENTIAL_PATTERNS[1].sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
        return text

    def mapping(self, data: Mapping[str, str], secret_keys: Iterable[str] = ()) -> dict[str, str]:
        """Mask every value of *data*; blank the values of keys AWS (or *secret_keys*) call secret."""
        keys = SECRET_CONFIGURATION_KEYS | frozenset(secret_keys)
        return {k: MASK if k in keys or is_secret(k, v, keys) else self(v) for k, v in data.items()}

    def __repr__(self) -> str:
        return f"<Masker with {len(self._values)} secret(s)>"
