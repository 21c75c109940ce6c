"""fleetreg: the system of record for telematics hardware."""

__version__ = "0.1.0"
