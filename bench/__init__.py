"""Speed and memory figures for the pages, the API and triage: ``python -m bench`` (or ``make bench``)."""
