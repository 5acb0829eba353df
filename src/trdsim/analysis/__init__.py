"""Decision uncertainty: PSA, value of information, deterministic sensitivity."""

__all__: list[str] = []
