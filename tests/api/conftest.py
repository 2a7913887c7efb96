"""Fixtures for API tests live in tests/conftest.py; ``PartnerClient`` is importable from here too."""

from tests.conftest import PartnerClient

__all__ = ["PartnerClient"]
