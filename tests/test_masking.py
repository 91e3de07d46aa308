"""The one masker: encoded forms, multi-line secrets line by line, and no masking of common text."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from urllib.parse import quote, quote_plus

from hypothesis import given
from hypothesis import strategies as st

from pipeweaver import _masking
from pipeweaver._masking import MASK, Masker
from pipeweaver.aws import _deploy
from pipeweaver.execution import LocalExecutor
from pipeweaver.report import mask

SECRET = "s3cr3t-Value/with+odd é chars"

PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7x9Zq3Lk2s8Xy0Wv1\n"
    "Ut2Rs3Qp4On5Ml6Kj7Ih8Gf9EdAb3xYcZ0dW1eV2fU3gT4hS5iR6jQ7kP8lO9mN0pM1\n"
    "\n"
    "end\n"
    "-----END PRIVATE KEY-----\n"
)


def test_one_masker_and_one_mask_everywhere(tmp_path: Path) -> None:
    """The engine, the report and the AWS edge use pipeweaver._masking's Masker and MASK."""
    executor = LocalExecutor(tmp_path)
    executor.close()

    assert type(executor.masker) is Masker
    assert _deploy.MASK is _masking.MASK == MASK == "****"


def test_encoded_forms_are_masked() -> None:
    """base64 (std and urlsafe, padded or not), JSON-escaped and URL-encoded forms all become ****."""
    m = Masker([SECRET])
    raw = SECRET.encode()
    forms = {
        "base64": base64.b64encode(raw).decode(),
        "base64-unpadded": base64.b64encode(raw).decode().rstrip("="),
        "base64-url": base64.urlsafe_b64encode(raw).decode(),
        "base64-url-unpadded": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "json": json.dumps(SECRET)[1:-1],
        "json-ascii": json.dumps(SECRET, ensure_ascii=True)[1:-1],
        "url": quote(SECRET, safe=""),
        "url-plus": quote_plus(SECRET),
        "url-lower-hex": re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), quote(SECRET, safe="")),
    }

    assert dict.fromkeys(forms, f"<{MASK}>") == {name: m(f"<{form}>") for name, form in forms.items()}


@given(prefix=st.binary(max_size=7), suffix=st.binary(max_size=7), secret=st.text(min_size=12, max_size=40))
def test_base64_of_a_secret_inside_longer_data_is_masked(prefix: bytes, suffix: bytes, secret: str) -> None:
    """Wherever the secret starts in the encoded data (Basic auth's user:secret), its run of base64 is masked."""
    encoded = base64.b64encode(prefix + secret.encode() + suffix).decode()

    assert MASK in Masker([secret])(encoded)


def test_a_pem_key_logged_line_by_line_is_masked_line_by_line() -> None:
    """Each key line is masked on its own; armour, blank and short lines are not secrets of their own."""
    m = Masker([PEM])

    assert [
        "-----BEGIN PRIVATE KEY-----",
        MASK,
        MASK,
        "",
        "end",
        "-----END PRIVATE KEY-----",
    ] == [m(line) for line in PEM.splitlines()]
    assert f'"{MASK}"' == m(json.dumps(PEM))  # whole, JSON-escaped (newlines as \n)


def test_short_or_blank_lines_of_a_secret_do_not_mask_common_text() -> None:
    """'end', '' and the armour of a multi-line secret leave ordinary log lines alone."""
    m = Masker([PEM, "two\nlines"])

    for line in ("the end", "", "-----BEGIN PRIVATE KEY----- follows", "two lines", "pipeline ended"):
        assert line == m(line)


def test_a_secret_read_with_its_newline_is_masked_without_it() -> None:
    """A value from a file ends in a newline; commands print it without."""
    assert f"token={MASK}" == Masker(["abc123xyz\n"])("token=abc123xyz")


def test_report_mask_keeps_masking_credential_lookalikes() -> None:
    """report.mask is the one masker with credential patterns: undeclared AKIA ids and password=... too."""
    assert f"key {MASK} password={MASK} {MASK}" == mask(
        "key AKIAABCDEFGHIJKLMNOP password=hunter2 " + base64.b64encode(b"declared-secret").decode(),
        ["declared-secret"],
    )


_TEXT = st.text(alphabet=st.characters(blacklist_characters="*", blacklist_categories=("Cs",)), max_size=12)


@given(secrets=st.lists(_TEXT.filter(bool), min_size=1, max_size=6), before=_TEXT, after=_TEXT, pick=st.integers())
def test_no_registered_secret_survives_masking(secrets: list[str], before: str, after: str, pick: int) -> None:
    """Whatever the overlaps between secrets (the trie-shaped pattern), none is left whole in the output."""
    secret = secrets[pick % len(secrets)]

    assert secret not in Masker(secrets)(before + secret + after)
