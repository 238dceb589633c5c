"""showkeeper: keeps a local library of episodic video complete."""

__version__ = "0.1.0"
