"""Layer 4 beside the simulation: where and how runs are carried out: folder locks,
the size of a run before it starts, and dask clients with atomic writes."""

__all__: list[str] = []
