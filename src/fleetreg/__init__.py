"""fleetreg: the system of record for telematics hardware."""

from importlib.metadata import version

__version__ = version("fleetreg")  # pyproject.toml's, the one place it is written
