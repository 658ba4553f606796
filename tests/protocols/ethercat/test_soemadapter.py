"""The pysoem adapter's import-time check names the version and the attribute when pysoem is reshaped."""

from __future__ import annotations

import pytest

from edgewatch.protocols.ethercat import soemadapter


class _Master:
    open = close = config_init = config_map = send_processdata = receive_processdata = None
    read_state = write_state = state_check = expected_wkc = always_release_gil = None


class _Slave:
    name = man = id = rev = input = output = state = al_status = None


def test_adapter_check_passes_on_the_pinned_pysoem():
    soemadapter.check()


def test_adapter_check_names_a_missing_master_attribute():
    class Reshaped:
        pass

    with pytest.raises(ImportError, match=r"pysoem 1\.1\.13 \(edgewatch is pinned to 1\.1\.13\): Reshaped\.open"):
        soemadapter.check(Reshaped, _Slave)


def test_adapter_check_names_a_missing_slave_attribute():
    with pytest.raises(ImportError, match=r"_Slave\.write_state is missing"):
        soemadapter.check(_Master, _Slave)
