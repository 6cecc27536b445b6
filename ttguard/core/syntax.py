"""How the server reads a body's bytes: UTF-8 first, then JSON syntax.

Both steps run in C (``bytes.decode``, ``json.loads``); a pure-Python tokenizer measured ~25x
slower than ``json.loads``, and the body is bounded by the quota anyway, so the whole text is
parsed once. This is the exact reading: the fast parsers
(:func:`~ttguard.core.fast_engine.fast_parse`) settle most bodies before it, the broken ones
among them, and leave it those where they and ``json.loads`` may part.

Choices where RFC 8259 and the server may differ, each the reading that accepts more (a
pre-validator must never refuse what the server accepts), each tested:

* ``NaN``, ``Infinity`` and ``-Infinity`` are accepted: Python's ``json`` accepts them.
* A leading UTF-8 byte order mark is skipped: ``json.loads`` accepts one on bytes.
* Duplicate keys are accepted, the last one wins, as in ``json.loads``.
* Lone surrogate escapes (``"\\ud800"``) are accepted, as in ``json.loads``.
* A body of only whitespace counts as an empty body.
* Refused with ``400415``, because ``json.loads`` itself fails on them: nesting deeper than the
  interpreter's recursion budget (``RecursionError``), and integer literals longer than the
  interpreter's int-string limit (4300 digits by default since CPython 3.11 and the security
  releases of 3.8-3.10).
"""

from __future__ import annotations

import codecs
import json

from .errors import Subcode, TTError, refusal

__all__ = ["Utf8Checker", "decode_utf8", "invalid_characters", "is_blank", "not_a_valid_json",
           "parse_json"]

INVALID_CHARACTERS = "Request body contains invalid characters."
NOT_A_VALID_JSON = "Request body is not a valid JSON."
_JSON_WHITESPACE = " \t\n\r"
_BOM = "\ufeff"
_UTF8_DECODER = codecs.getincrementaldecoder("utf-8")


def invalid_characters() -> TTError:
    """The server's answer to a body that is not UTF-8."""
    return refusal(Subcode.INVALID_CHARACTERS, INVALID_CHARACTERS)


def not_a_valid_json() -> TTError:
    """The server's answer to a UTF-8 body that is not JSON."""
    return refusal(Subcode.NOT_A_VALID_JSON, NOT_A_VALID_JSON)


class Utf8Checker:
    """Checks UTF-8 chunk by chunk, in C, keeping at most three bytes of a split character."""

    def __init__(self) -> None:
        # Made at the first non-ASCII chunk: most bodies never need one.
        self._decoder: codecs.IncrementalDecoder | None = None
        #: No split character is pending: an ASCII chunk is then UTF-8 with nothing to decode.
        self._between_characters = True

    def check(self, chunk: bytes | bytearray | memoryview) -> bool:
        """Whether the body so far is still UTF-8 (a character split at the end is fine)."""
        if self._between_characters and not isinstance(chunk, memoryview) and chunk.isascii():
            return True
        if self._decoder is None:
            self._decoder = _UTF8_DECODER("strict")
        try:
            self._decoder.decode(chunk)
        except UnicodeDecodeError:
            return False
        self._between_characters = not self._decoder.getstate()[0]
        return True


def decode_utf8(body: bytes | bytearray) -> str:
    """The body as text without a leading byte order mark, or the server's ``400314``."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        # Raised past the handler: a verdict whose context held the decode error would keep the
        # whole body alive (the error's object) as long as the verdict is kept.
        text = None
    if text is None:
        raise invalid_characters()
    return text[1:] if text.startswith(_BOM) else text


def is_blank(text: str) -> bool:
    """Whether the body holds no JSON value at all (empty, or JSON whitespace only)."""
    return not text.strip(_JSON_WHITESPACE)


def parse_json(text: str) -> object:
    """The JSON value of a non-blank body, or the server's ``400415``."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        # JSONDecodeError is a ValueError; so is the int-string digit limit. Raised past the
        # handler, as in decode_utf8(): its traceback holds the body's text.
        pass
    raise not_a_valid_json()
