"""The package version (pyproject.toml reads it from here; the User-Agent carries it)."""

__version__ = "0.1.0"
