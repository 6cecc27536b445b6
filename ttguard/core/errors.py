"""The Trusted Twin error model: subcodes, and the exception that carries the server's answer.

The server answers a failed request with an HTTP status and a JSON body
``{"subcode": <int>, "trace": <str>, "description": <str>}`` (the shape of
``TTExceptionBodyResponse`` in ``trustedtwin-utils``). The HTTP status is the first three
digits of the subcode. :class:`TTError` carries exactly that answer, so an adapter can send it
back byte for byte in the server's shape, and a caller can branch on ``.subcode``.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence

__all__ = ["ROOT_LOCATION", "Subcode", "TTError", "refusal", "schema_error", "schema_error_up"]


class Subcode(enum.IntEnum):
    """Every subcode the Trusted Twin server is known to answer with.

    From the server's status-code page and the ``SubCodes`` enum of ``trustedtwin-utils``.
    ``.status`` is the HTTP status, ``.message`` the snake_case name the docs print.
    """

    QUOTA_VIOLATION = 400141
    INVALID_CHARACTERS = 400314
    IDEMPOTENCY_VIOLATION = 400358
    NOT_A_VALID_JSON = 400415
    REQUEST_FORMAT = 400589
    OPERATION_ORDER_VIOLATION = 400592
    CORRUPTED_REQUEST = 400793
    OPERATION_NOT_ALLOWED = 400897
    FIELD_REQUIRED = 400926
    SERVICE_DISABLED = 400979
    UNAUTHORIZED = 401000
    ACCESS_FORBIDDEN = 403535
    NOT_FOUND = 404653
    INTERNAL_ERROR = 500000
    #: ``trustedtwin-utils`` calls it ``ASSERT``; the docs print both 500000 and 500001 as
    #: ``internal_error`` (``50000x``).
    INTERNAL_ERROR_ASSERT = 500001
    RESPONSE_TIMEOUT = 500159
    TIMESERIES_NO_CONNECTION = 500314
    AUTH_TIMEOUT = 501159
    REQUEST_TIMEOUT = 502159
    PROCESSING_TIMEOUT = 503159

    @property
    def status(self) -> int:
        """The HTTP status the server sends with this subcode."""
        return self.value // 1000

    @property
    def message(self) -> str:
        """The subcode's name as the server's documentation prints it."""
        if self is Subcode.INTERNAL_ERROR_ASSERT:
            return "internal_error"
        return self.name.lower()


class TTError(Exception):
    """A request the Trusted Twin server would refuse, with the answer it would give.

    >>> error = TTError(Subcode.NOT_A_VALID_JSON, "Request body is not a valid JSON.")
    >>> error.status, error.subcode, error.message
    (400, 400415, 'not_a_valid_json')
    >>> sorted(error.to_dict())
    ['description', 'subcode', 'trace']

    ``trace`` identifies this one error instance, as the server's does: a fresh UUID4 string
    unless one is given.
    """

    # Slots: a refusal is made on every refused request, and setting them costs less than
    # setting the instance dictionary (0.3 us against 0.5).
    __slots__ = ("_trace", "description", "message", "status", "subcode")
    status: int
    subcode: int
    message: str
    description: str

    def __init__(self, subcode: Subcode | int, description: str, *, trace: str | None = None):
        code = int(subcode)
        if not 100000 <= code <= 599999:
            raise ValueError(f"a subcode has six digits, the first three an HTTP status: {code}")
        self.subcode = code
        self.status = code // 1000
        self.message = _MESSAGES.get(code, "error")
        self.description = description
        self._trace = trace
        Exception.__init__(self, description)

    @property
    def trace(self) -> str:
        """This error's identifier, made on first use: a refusal nobody reads the trace of
        (most of those :func:`~ttguard.validate` raises) does not pay for a UUID."""
        if self._trace is None:
            self._trace = str(uuid.uuid4())
        return self._trace

    def to_dict(self) -> dict[str, int | str]:
        """The server's error body for this error: ``{"subcode", "trace", "description"}``."""
        return {"subcode": self.subcode, "trace": self.trace, "description": self.description}

    def __str__(self) -> str:
        return f"{self.status} {self.subcode} {self.message}: {self.description}"

    def __repr__(self) -> str:
        return f"TTError({self.subcode}, {self.description!r}, trace={self.trace!r})"

    def __reduce__(self) -> tuple[object, ...]:
        # Exceptions pickle through their args; keep the trace across process boundaries.
        return (_rebuild, (self.subcode, self.description, self.trace))


_MESSAGES = {int(subcode): subcode.message for subcode in Subcode}


def _rebuild(subcode: int, description: str, trace: str) -> TTError:
    return TTError(subcode, description, trace=trace)


_make = BaseException.__new__


def refusal(subcode: Subcode, description: str) -> TTError:
    """``TTError(subcode, description)``, made without the constructor's checks, which a
    :class:`Subcode` passes: the core makes one for every refused request, and the checks and
    the call of ``__init__`` cost 0.12 us of the constructor's 0.25.

    >>> refusal(Subcode.NOT_A_VALID_JSON, "Request body is not a valid JSON.").message
    'not_a_valid_json'
    """
    error: TTError = _make(TTError, description)  # sets args, as Exception.__init__ does
    error.subcode, error.status, error.message = _ANSWERS[subcode]
    error.description = description
    error._trace = None
    return error


#: Each subcode's ``subcode``, ``status`` and ``message`` attributes, the first two as plain
#: ints (an IntEnum is slower to read).
_ANSWERS = {subcode: (int(subcode), subcode.status, subcode.message) for subcode in Subcode}


#: Where pydantic places an error on a location's root value itself.
ROOT_LOCATION = "__root__"


def schema_error(steps: Sequence[str | int], message: str, *, missing: bool) -> TTError:
    """The server's answer to one schema error: ``message`` about the value at ``steps`` (the
    location, ``"body"`` say, then keys and indexes), ``missing`` for a field required.

    >>> schema_error(["body", "entries", "k", "history"], "str type expected",
    ...              missing=False).description
    'body::entries->k->history: str type expected'
    """
    return schema_error_up(list(reversed(steps)), message, missing)


def schema_error_up(steps: list[str | int], message: str, missing: bool) -> TTError:
    """:func:`schema_error` of the steps from the value at fault up to the location, as a walk
    finds them, which it takes: a walk's refusal costs a reversed copy and a slice less (0.1 us
    of 0.5).

    >>> schema_error_up(["history", "k", "entries", "body"], "str type expected",
    ...                 False).description
    'body::entries->k->history: str type expected'
    """
    location = steps.pop() if steps else ROOT_LOCATION
    if steps:
        steps.reverse()
        try:
            # Steps are keys, strings, but for a list's indexes: map(str) would cost 0.2 us
            # on every refusal.
            path = "->".join(steps)  # type: ignore[arg-type]
        except TypeError:
            path = "->".join(map(str, steps))
    else:
        path = ROOT_LOCATION
    return refusal(_FIELD_REQUIRED if missing else _REQUEST_FORMAT,
                   f"{location}::{path}: {message}")


# A member read off its enum class costs 0.09 us (EnumType's lookup), a global 0.01 us.
_FIELD_REQUIRED, _REQUEST_FORMAT = Subcode.FIELD_REQUIRED, Subcode.REQUEST_FORMAT
