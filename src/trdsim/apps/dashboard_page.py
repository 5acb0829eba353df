"""The page `trdsim dashboard` serves (`solara run` loads this file).

A script, not a module of the package (this folder has no __init__.py): importing it
builds the page, and mesa's page imports matplotlib.pyplot, which trdsim's modules never
do (tests/test_package.py).

The scenario and its --set values come in the environment variable TRDSIM_DASHBOARD
(JSON: {"scenario": ..., "settings": {...}}), which the command has already checked.
"""

import json
import os

from trdsim.dashboard import page as _page

_config = json.loads(os.environ.get("TRDSIM_DASHBOARD", "{}"))
page = _page(_config.get("scenario", "capacity_whatif"), _config.get("settings") or {})
