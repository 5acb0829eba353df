"""Layer 3: the simulation kernel (numba only), with the array layout and the random
streams it shares with the compiler (`layout`, `rng`: pure leaves, declared at layer 0)."""

__all__: list[str] = []
