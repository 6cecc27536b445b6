"""The sans-IO core of ttguard: the error model, the streaming validator, the catalogue, routes.

Nothing here does I/O. The adapters (:mod:`ttguard.functions`, :mod:`ttguard.cli`, and the
ASGI and client guards) import this package and none of each other.
"""

from .catalogue import Operation, operations
from .errors import Subcode, TTError
from .routes import Query, Route, parse_query, resolve
from .stream import DEFAULT_MAX_BODY, StreamValidator, judge_whole

__all__ = [
    "DEFAULT_MAX_BODY",
    "Operation",
    "Query",
    "Route",
    "StreamValidator",
    "Subcode",
    "TTError",
    "judge_whole",
    "operations",
    "parse_query",
    "resolve",
]
