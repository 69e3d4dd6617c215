"""GridCore: decision support for community grid management in a public-health emergency."""

__version__ = "0.1.0"
