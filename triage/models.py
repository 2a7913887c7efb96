"""Triage pathways arrive with the triage issue; the app is registered now so
its URLs and migrations have a home."""
