"""Layer 4: one arm's run over the engine (`arm`), the arms of one cohort patient by
patient or as lean means (`run`), the reductions to means (`means`), and compiling the
kernel ahead of a command (`warmup`)."""

__all__: list[str] = []
