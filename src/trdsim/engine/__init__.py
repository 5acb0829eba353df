"""The simulation kernel (numba), its array layout, random streams and run state."""

__all__: list[str] = []
