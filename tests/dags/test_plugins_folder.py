"""Airflow's plugin loader must not import the nurture package module by module."""

import os
import subprocess
import sys
from pathlib import Path

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"

PROBE = f"""
import sys
from airflow import plugins_manager
plugins, errors = plugins_manager._get_plugins()
assert not errors, errors
loaded = sorted(name for name, module in list(sys.modules.items())
                if (getattr(module, "__file__", None) or "").startswith({str(PLUGINS)!r}))
print(loaded)
"""


def test_plugin_loader_skips_the_package(tmp_path):
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PLUGINS),
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
