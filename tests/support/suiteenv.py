"""The environment each service of ``edgewatch up`` gets, read from the process table as the children get it: a
service of the background group (``edgewatch.common.service.group``) gets the group's environment plus its own
variables from ``EDGEWATCH_GROUP_ENV``."""

from __future__ import annotations

import json

from edgewatch.suite.layout import SuiteConfig
from edgewatch.suite.services import GROUP_ENV, build_specs

__all__ = ["service_envs"]


def service_envs(cfg: SuiteConfig) -> dict[str, dict[str, str]]:
    """``edgewatch-<svc>`` -> the environment that service's settings are loaded from (beyond the supervisor's)."""
    out: dict[str, dict[str, str]] = {}
    for spec in build_specs(cfg):
        if not spec.name.startswith("edgewatch-"):
            continue
        if GROUP_ENV not in spec.env:
            out[spec.name] = dict(spec.env)
            continue
        for package, own in json.loads(spec.env[GROUP_ENV]).items():
            out["edgewatch-" + package.removeprefix("edgewatch.")] = {**spec.env, **own}
    return out
