"""EdgeX resource attributes of the ``ethercat`` protocol, parsed once when a profile loads.

``area`` says what a resource is:

- ``input`` / ``output``: a PDO entry of the slave's input (TxPDO) or output (RxPDO) image, named by ``index`` and
  ``subindex`` as the slave maps it (CoE 0x1C12/0x1C13 or SII), or placed by ``byteOffset`` (+ ``bitOffset`` for a
  Bool) in the image. Scalar value types only (Bool is one bit).
- ``sdo``: a CoE object ``index`` / ``subindex``, read and written through the mailbox; ``completeAccess: true``
  transfers the whole object (valueType Binary); ``size`` bounds an upload (default 256 bytes).
- ``state``: the slave's AL state as String (``OP``, ``SAFE_OP+ERROR``, ``NONE`` when lost) or Uint8 (the AL status
  register); ``alStatusCode``: the AL status code (Uint16).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from edgewatch.protocols.errors import ProfileConfigError
from edgewatch.protocols.ethercat.codec import SCALAR_BITS

__all__ = ["AREAS", "EtherCatAttributes", "parse_attributes"]

AREAS: Final = ("input", "output", "sdo", "state", "alStatusCode")
_KNOWN: Final = {"area", "index", "subindex", "byteOffset", "bitOffset", "completeAccess", "size"}
_STATE_TYPES: Final = {"state": ("String", "Uint8"), "alStatusCode": ("Uint16",)}


@dataclass(frozen=True, slots=True)
class EtherCatAttributes:
    """One resource's parsed attributes; ``bit_offset`` is set for offset-placed PDO resources."""

    area: str
    value_type: str
    index: int | None = None
    subindex: int = 0
    bit_offset: int | None = None
    complete_access: bool = False
    size: int = 256

    @property
    def address(self) -> str:
        """``0x6041:00``, ``byte 2 bit 3`` or the area (for messages)."""
        if self.index is not None:
            return f"0x{self.index:04X}:{self.subindex:02X}"
        if self.bit_offset is not None:
            return f"byte {self.bit_offset // 8} bit {self.bit_offset % 8}"
        return self.area


def _int(attrs: Mapping[str, Any], key: str, lo: int, hi: int, fail: Any) -> int | None:
    raw = attrs.get(key)
    if raw is None:
        return None
    try:
        value = int(raw, 0) if isinstance(raw, str) else raw
    except ValueError:
        raise fail(f"attribute {key} {raw!r} is not an integer") from None
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise fail(f"attribute {key} {raw!r} must be an integer in [{lo}, {hi}]")
    return value


def parse_attributes(
    attrs: Mapping[str, Any] | None, value_type: str, read_write: str = "R", *, device: str = "", resource: str = ""
) -> EtherCatAttributes:
    """Parse and check one resource's attributes.

    Raises:
        ProfileConfigError: the message names the device, the resource and the attribute.
    """

    def fail(message: str) -> ProfileConfigError:
        return ProfileConfigError(message, device=device, resource=resource)

    a = dict(attrs or {})
    unknown = sorted(set(a) - _KNOWN)
    if unknown:
        raise fail(f"unknown ethercat attributes {unknown} (known: {sorted(_KNOWN)})")
    area = a.get("area")
    if area not in AREAS:
        raise fail(f"attribute area {area!r} must be one of {list(AREAS)}")
    writable = "W" in read_write.upper()
    if area in _STATE_TYPES:
        if value_type not in _STATE_TYPES[area]:
            raise fail(f"area {area} needs valueType {' or '.join(_STATE_TYPES[area])}, not {value_type}")
        if writable:
            raise fail(f"area {area} is read-only; readWrite {read_write} is refused")
        return EtherCatAttributes(area, value_type)
    index = _int(a, "index", 0x0000, 0xFFFF, fail)
    subindex = _int(a, "subindex", 0, 0xFF, fail) or 0
    if area == "sdo":
        if index is None:
            raise fail("area sdo needs attribute index")
        ca = a.get("completeAccess", False)
        if not isinstance(ca, bool):
            raise fail(f"attribute completeAccess {ca!r} must be true or false")
        allowed = set(SCALAR_BITS) | {"String", "Binary"}
        if value_type not in allowed or (ca and value_type != "Binary"):
            need = "Binary" if ca else f"one of {sorted(allowed)}"
            raise fail(
                f"an sdo resource{' with completeAccess' if ca else ''} needs valueType {need}, not {value_type}"
            )
        if ca and subindex > 1:
            raise fail(f"completeAccess starts at subindex 0 or 1, not {subindex}")
        size = _int(a, "size", 1, 1024, fail) or 256
        return EtherCatAttributes(area, value_type, index, subindex, None, ca, size)
    if value_type not in SCALAR_BITS:
        raise fail(f"a PDO resource needs a scalar valueType {sorted(SCALAR_BITS)}, not {value_type}")
    if area == "input" and writable:
        raise fail(f"area input is read-only; readWrite {read_write} is refused")
    byte_offset = _int(a, "byteOffset", 0, 0xFFFF, fail)
    bit = _int(a, "bitOffset", 0, 7, fail)
    if (index is None) == (byte_offset is None):
        raise fail("a PDO resource needs either index (+ subindex) or byteOffset (+ bitOffset), not both or neither")
    if bit and value_type != "Bool":
        raise fail(f"bitOffset is for Bool resources; {value_type} starts on a byte")
    if byte_offset is not None:
        return EtherCatAttributes(area, value_type, None, 0, byte_offset * 8 + (bit or 0))
    return EtherCatAttributes(area, value_type, index, subindex)
