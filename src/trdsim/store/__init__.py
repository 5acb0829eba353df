"""Layer 5: results on disk: their manifest, their tables, and the result objects' base
(with the registry `read_result` finds each analysis's class by)."""

__all__: list[str] = []
