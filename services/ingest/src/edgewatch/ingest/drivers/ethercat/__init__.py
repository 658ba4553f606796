"""EtherCAT driver: a pysoem master per network interface, shared by the devices (slaves) on it."""

from __future__ import annotations

from edgewatch.ingest.drivers.ethercat.driver import EtherCatDriver, create_driver
from edgewatch.ingest.drivers.ethercat.pool import EtherCatOptions, MasterPool
from edgewatch.ingest.drivers.ethercat.properties import EtherCatLink, parse_link

__all__ = ["EtherCatDriver", "EtherCatLink", "EtherCatOptions", "MasterPool", "create_driver", "parse_link"]
