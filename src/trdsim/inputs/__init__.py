"""Layer 2: a scenario compiled to the numbers the kernel reads: the arrays (`arrays`),
the patients' attributes at entry (`cohort`), and each arm's effective response and
remission by step (`effective`)."""

__all__: list[str] = []
