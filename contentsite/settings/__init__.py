"""Settings package: ``base`` (local defaults), ``production`` and ``test``."""
