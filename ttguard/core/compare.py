"""ttguard's verdict beside the server's answer: do they agree, and if not, how?

An adapter that sees the server's response (the gateway, the client guards) can check ttguard
against the only ground truth there is. :func:`read_answer` reads a response's status and, for
an error, its small body, into an :class:`Answer`; :func:`compare` sets the verdict ttguard
reached (a :class:`~ttguard.TTError`, or ``None`` for "accepted") beside it:

* ``agree``: both accept, or both refuse with the same subcode and description;
* ``false_rejection``: ttguard refuses, the server accepts (2xx). The one that matters most:
  an enforcing ttguard would block that request;
* ``missed``: ttguard accepts, the server answers with one of the subcodes ttguard gives;
* ``other_wording``: the same subcode, another description;
* ``other_subcode``: both refuse with subcodes ttguard gives, but not the same one;
* ``unreadable``: a 400 whose body is not the server's error model (or was cut short);
* ``not_comparable``: an answer that depends on the server's state or on who asks (401, 403,
  404, 409, a 400 subcode that ttguard never gives, any 5xx), or a redirect; or a refusal of a
  body ttguard left unjudged (one under a ``Content-Encoding``, say).

Nothing here does I/O; each function is linear in the size of the (small) error body.
"""

from __future__ import annotations

import enum
import json
from functools import lru_cache
from typing import NamedTuple

from .errors import Subcode, TTError

__all__ = ["BODY_SUBCODES", "MAX_ERROR_BODY", "Agreement", "Answer", "compare", "read_answer"]

#: The subcodes ttguard answers about a body, path or query, which the server gives for the
#: same reasons whatever its state: a disagreement on one of these is ttguard's to explain.
BODY_SUBCODES = frozenset({Subcode.QUOTA_VIOLATION, Subcode.INVALID_CHARACTERS,
                           Subcode.NOT_A_VALID_JSON, Subcode.REQUEST_FORMAT,
                           Subcode.FIELD_REQUIRED})
#: An error body is read up to this many bytes; the server's are a few hundred.
MAX_ERROR_BODY = 16384


class Agreement(str, enum.Enum):
    """How ttguard's verdict stands to the server's answer (see the module's description)."""

    AGREE = "agree"
    FALSE_REJECTION = "false_rejection"
    MISSED = "missed"
    OTHER_WORDING = "other_wording"
    OTHER_SUBCODE = "other_subcode"
    UNREADABLE = "unreadable"
    NOT_COMPARABLE = "not_comparable"

    @property
    def is_disagreement(self) -> bool:
        """Whether this is worth a record: anything but agreement and the incomparable."""
        return self not in (Agreement.AGREE, Agreement.NOT_COMPARABLE)


class Answer(NamedTuple):
    """The server's answer: its status and, for an error in its model, the error body's parts."""

    status: int
    subcode: int | None = None
    description: str | None = None
    trace: str | None = None

    @property
    def readable(self) -> bool:
        """Whether an error answer came with the server's error body (a success always is)."""
        return self.status < 400 or self.subcode is not None


def read_answer(status: int, body: bytes | None) -> Answer:
    """The answer of a response with ``status`` and (for an error) its ``body``, never raising.

    A body that is not the error model (not JSON, not an object, no integer ``subcode``, or
    ``None`` for a response cut short) gives an answer without a subcode.
    """
    if status < 400 or not body or len(body) > MAX_ERROR_BODY:
        return _bare_answer(status)
    try:
        error = json.loads(body)
    except (ValueError, RecursionError):
        return Answer(status)
    if not isinstance(error, dict):
        return Answer(status)
    subcode, description, trace = (error.get(key) for key in ("subcode", "description", "trace"))
    if isinstance(subcode, str) and subcode.isdigit():
        subcode = int(subcode)  # the docs' table types it a string
    if not isinstance(subcode, int) or isinstance(subcode, bool):
        return Answer(status)
    return Answer(status, subcode, description if isinstance(description, str) else None,
                  trace if isinstance(trace, str) else None)


@lru_cache(maxsize=64)
def _bare_answer(status: int) -> Answer:
    # One per status, shared (an answer is immutable): a gateway reads one for every request.
    return Answer(status)


def compare(verdict: TTError | None, answer: Answer, *, body_judged: bool = True) -> Agreement:
    """How ttguard's ``verdict`` (``None``: accepted) stands to the server's ``answer``;
    ``body_judged`` false: the verdict covers the path and query alone."""
    if 200 <= answer.status < 300:
        return Agreement.AGREE if verdict is None else Agreement.FALSE_REJECTION
    if answer.status != 400:  # every subcode ttguard gives about a request is a 400
        return Agreement.NOT_COMPARABLE
    if not answer.readable:
        return Agreement.UNREADABLE
    if answer.subcode not in BODY_SUBCODES:
        return Agreement.NOT_COMPARABLE
    if verdict is None and not body_judged and not (answer.description or "").startswith(
            ("path::", "query::")):
        return Agreement.NOT_COMPARABLE  # about the body, which ttguard never read
    if verdict is None:
        return Agreement.MISSED
    if verdict.subcode != answer.subcode:
        return Agreement.OTHER_SUBCODE
    if verdict.description != answer.description:
        return Agreement.OTHER_WORDING
    return Agreement.AGREE
