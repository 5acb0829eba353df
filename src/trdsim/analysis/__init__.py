"""Layer 6: the analyses of a scenario, each owning its result object: the comparison of
its arms (`compare`, with `costs` and `subgroups`), decision uncertainty (PSA, value of
information) and deterministic sensitivity (`dsa`)."""

__all__: list[str] = []
