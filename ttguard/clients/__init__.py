"""Outgoing guards: the server's verdict before a request leaves, in the HTTP client you use.

One module per HTTP library, each importing its library only when used, so ttguard needs none
of them:

* :class:`GuardedSession` (:mod:`.requests_session`): a ``requests.Session``;
* :class:`GuardTransport`, :class:`AsyncGuardTransport` (:mod:`.httpx_transport`): httpx
  transports;
* :func:`guarded_client_session`, :func:`guard_middleware` (:mod:`.aiohttp_session`): an aiohttp
  session, a client middleware.

All judge the bytes the library would send, with :class:`~.request_guard.RequestGuard`, and raise
:class:`~ttguard.TTError` before any connection is opened; with ``report_only`` they send every
request as the library would and only log refusals. Given a ``reporter`` or ``metrics``, each
sets its verdict beside the server's answer and records or counts the disagreements.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .request_guard import DEFAULT_BASE_URL, RequestGuard

if TYPE_CHECKING:
    from .aiohttp_session import guard_middleware, guarded_client_session
    from .httpx_transport import AsyncGuardTransport, GuardTransport
    from .requests_session import GuardedSession

__all__ = [
    "DEFAULT_BASE_URL",
    "AsyncGuardTransport",
    "GuardTransport",
    "GuardedSession",
    "RequestGuard",
    "guard_middleware",
    "guarded_client_session",
]

_LAZY = {
    "GuardedSession": ("requests_session", "requests"),
    "GuardTransport": ("httpx_transport", "httpx"),
    "AsyncGuardTransport": ("httpx_transport", "httpx"),
    "guard_middleware": ("aiohttp_session", "aiohttp"),
    "guarded_client_session": ("aiohttp_session", "aiohttp"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, extra = _LAZY[name]
    try:
        return getattr(importlib.import_module(f"{__name__}.{module}"), name)
    except ImportError as error:
        raise ImportError(f"ttguard.clients.{name} needs {extra}: "
                          f"pip install 'ttguard[{extra}]' ({error})") from error
