"""EtherCAT AL states and AL status codes (ETG.1000.6 table 11), as names for errors and readings."""

from __future__ import annotations

from typing import Final

__all__ = ["AL_STATUS_CODES", "ERROR_FLAG", "STATES", "State", "describe_code", "state_name"]


class State:
    """AL state values (the low nibble of AL control / AL status)."""

    NONE = 0x00
    INIT = 0x01
    PRE_OP = 0x02
    BOOT = 0x03
    SAFE_OP = 0x04
    OP = 0x08
    ACK = 0x10  # in AL control: acknowledge the error indication


ERROR_FLAG: Final = 0x10  # in AL status: the slave refused or left a state and set an AL status code

STATES: Final[dict[int, str]] = {0: "NONE", 1: "INIT", 2: "PRE_OP", 3: "BOOT", 4: "SAFE_OP", 8: "OP"}

AL_STATUS_CODES: Final[dict[int, str]] = {
    0x0000: "No error",
    0x0001: "Unspecified error",
    0x0011: "Invalid requested state change",
    0x0012: "Unknown requested state",
    0x0016: "Invalid mailbox configuration",
    0x001A: "Synchronization error",
    0x001B: "Sync manager watchdog",
    0x001D: "Invalid output configuration",
    0x001E: "Invalid input configuration",
    0x0020: "Slave needs cold start",
    0x0024: "Invalid input mapping",
    0x0025: "Invalid output mapping",
}


def state_name(state: int) -> str:
    """``OP``, ``SAFE_OP+ERROR``, ``NONE`` (lost) ... for an AL status value."""
    base = STATES.get(state & 0x0F, f"0x{state & 0x0F:X}")
    return base + ("+ERROR" if state & ERROR_FLAG else "")


def describe_code(code: int) -> str:
    """``0x001B (Sync manager watchdog)``."""
    return f"0x{code:04X} ({AL_STATUS_CODES.get(code, 'vendor specific')})"
