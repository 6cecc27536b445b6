"""ttguard: check a Trusted Twin REST API request before it leaves, and answer as the server would.

>>> import ttguard
>>> ttguard.validate(b'{"description": {"colour": "red"}}', "create_twin")
{'description': {'colour': 'red'}}
>>> try:
...     ttguard.validate({"description": {"Colour": "red"}}, "create_twin")
... except ttguard.TTError as error:
...     print(error.subcode, error.description)
400589 body::description->__key__: string does not match regex ^[a-z_][0-9a-z_]{0,63}$
"""

from .core import (
    DEFAULT_MAX_BODY,
    Operation,
    Route,
    StreamValidator,
    Subcode,
    TTError,
    operations,
    resolve,
)
from .functions import avalidate, validate

__all__ = [
    "DEFAULT_MAX_BODY",
    "Operation",
    "Route",
    "StreamValidator",
    "Subcode",
    "TTError",
    "avalidate",
    "operations",
    "resolve",
    "validate",
]
__version__ = "0.1.0"
