"""Decision uncertainty: PSA, value of information, deterministic sensitivity."""
