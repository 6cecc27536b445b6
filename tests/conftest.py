"""Shared test helpers."""

from __future__ import annotations

import itertools

import pytest

from ttguard import TTError


def verdict(error: pytest.ExceptionInfo[TTError]) -> tuple[int, int, str]:
    """The parts of a TTError a test compares: status, subcode, description."""
    return error.value.status, error.value.subcode, error.value.description


def split(body: bytes, cuts: list[int]) -> list[bytes]:
    """``body`` cut at each of ``cuts`` (taken modulo its length plus one): a chunking of it."""
    points = sorted({cut % (len(body) + 1) for cut in cuts})
    edges = [0, *points, len(body)]
    return [body[start:end] for start, end in itertools.pairwise(edges)]
