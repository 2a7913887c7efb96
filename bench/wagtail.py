"""The Wagtail comparison: a minimal Wagtail 8 site in a virtualenv of its own, built on demand."""

from __future__ import annotations

from collections.abc import Callable

DEMO_PATH = "/demo/"
LONG_PATH = "/long/"


def prepare(say: Callable[[str], None]) -> str:
    return "not built yet"


def server() -> object:
    raise NotImplementedError
