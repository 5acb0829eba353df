"""Layer 4: one arm's run over the engine (`arm`), whole-cohort simulation (`run`), and
compiling the kernel ahead of a command (`warmup`)."""

__all__: list[str] = []
