"""Layer 6: the model against what was observed: targets (`targets`), emulated trials
(`trial`), validation against the targets (`validate`) and calibration to them
(`calibrate`)."""

__all__: list[str] = []
