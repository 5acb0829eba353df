"""Layer 5: figures, in one style (`style`): a comparison's (`compare`), the other
analyses' (`analysis`). Each function returns its matplotlib Figure, never shows it."""

__all__: list[str] = []
