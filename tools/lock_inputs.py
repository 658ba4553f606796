"""Print the inputs of ``requirements.lock`` (``make lock``): every third-party requirement of every package
(libs/*, services/*), the dev tools (requirements-dev.txt), the build backend and the GPU inference runtime.

One resolution for everything: ``make setup``, ``.ci/run`` and the Dockerfiles all install with
``-c requirements.lock``, so a gateway image runs exactly the versions CI tested.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXTRA = ("hatchling>=1.25", "onnxruntime-gpu[cuda,cudnn]>=1.20")  # the wheels' build backend; the inference-gpu image


def main() -> int:
    reqs: list[str] = []
    for pp in sorted([*ROOT.glob("libs/*/pyproject.toml"), *ROOT.glob("services/*/pyproject.toml")]):
        project = tomllib.loads(pp.read_text())["project"]
        extras = [d for deps in project.get("optional-dependencies", {}).values() for d in deps]
        for dep in [*project.get("dependencies", []), *extras]:  # extras too: make setup installs detect[train]
            if not dep.startswith("edgewatch-"):
                reqs.append(f"{dep}  # {pp.parent.relative_to(ROOT)}")
    reqs.append("-r requirements-dev.txt")
    reqs.extend(EXTRA)
    sys.stdout.write("\n".join(reqs) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
