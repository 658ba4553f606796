"""Libraries never import a service: every module of edgewatch.protocols and edgewatch.sim loads without one."""

from __future__ import annotations

import subprocess
import sys

import pytest

SERVICES = ("core", "ingest", "features", "inference", "rules", "sync")

# Runs in a fresh interpreter so modules imported by other tests cannot hide (or fake) an import.
PROBE = """
import importlib, pkgutil, sys
root = importlib.import_module(sys.argv[1])
for m in pkgutil.walk_packages(root.__path__, root.__name__ + "."):
    importlib.import_module(m.name)
print("\\n".join(sorted(sys.modules)))
"""


@pytest.mark.parametrize("package", ["edgewatch.protocols", "edgewatch.sim"])
def test_library_imports_no_service_module(package: str) -> None:
    out = subprocess.run([sys.executable, "-c", PROBE, package], capture_output=True, text=True, check=True).stdout
    loaded = out.split()
    assert f"{package}.modbus" in loaded  # the walk reached the subpackages
    services = [m for m in loaded if m.startswith("edgewatch.") and m.split(".")[1] in SERVICES]
    assert services == []
