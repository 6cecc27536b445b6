"""Outgoing guards: the server's verdict before a request leaves, in the HTTP client you use.

One module per HTTP library, each importing its library only when used, so ttguard needs none
of them (``from ttguard.clients import *`` takes the guards of the libraries installed):

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
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

from .request_guard import DEFAULT_BASE_URL, RequestGuard

if TYPE_CHECKING:  # re-exported (the aliases say so): __all__ lists them only if installed
    from .aiohttp_session import guard_middleware as guard_middleware
    from .aiohttp_session import guarded_client_session as guarded_client_session
    from .httpx_transport import AsyncGuardTransport as AsyncGuardTransport
    from .httpx_transport import GuardTransport as GuardTransport
    from .requests_session import GuardedSession as GuardedSession

#: The names each extra brings: its module here, and the library it wraps, imported when a name
#: is first asked for.
_LAZY = {
    "GuardedSession": ("requests_session", "requests"),
    "GuardTransport": ("httpx_transport", "httpx"),
    "AsyncGuardTransport": ("httpx_transport", "httpx"),
    "guard_middleware": ("aiohttp_session", "aiohttp"),
    "guarded_client_session": ("aiohttp_session", "aiohttp"),
}


def _installed(library: str) -> bool:
    try:
        return find_spec(library) is not None
    except ValueError:  # None in sys.modules: blocked, as good as absent
        return False


# A star-import takes every name listed: only those whose library is installed are, so that it
# works with any set of extras (another's name, asked for, says which extra it needs).
__all__ = ["DEFAULT_BASE_URL", "RequestGuard",
           *(name for name, (_, library) in _LAZY.items() if _installed(library))]


def __dir__() -> list[str]:
    """The public names, the lazily loaded ones included, installed or not."""
    return sorted({*__all__, *_LAZY})


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, extra = _LAZY[name]
    try:
        return getattr(importlib.import_module(f"{__name__}.{module}"), name)
    except ImportError as error:
        raise ImportError(f"ttguard.clients.{name} needs {extra}: "
                          f"pip install 'ttguard[{extra}]' ({error})") from error
