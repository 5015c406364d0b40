"""authcheck: what is actually known about a suspect video or image."""

__version__ = "0.1.0"
