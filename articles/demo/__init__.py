"""Demonstration content and local demo accounts, loaded by ``manage.py load_demo``."""
