"""Shared test helpers."""

from __future__ import annotations

import pytest

from ttguard import TTError


def verdict(error: pytest.ExceptionInfo[TTError]) -> tuple[int, int, str]:
    """The parts of a TTError a test compares: status, subcode, description."""
    return error.value.status, error.value.subcode, error.value.description
