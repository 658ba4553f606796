"""LazyDriverOptions: a protocol's options are built at its first lookup, once per builder, and closed in order."""

from __future__ import annotations

from edgewatch.ingest.driveroptions import LazyDriverOptions


async def test_options_are_built_on_first_lookup_once_per_builder_and_closed_in_build_order() -> None:
    built: list[str] = []
    closed: list[str] = []

    def builder(name: str) -> object:
        async def close() -> None:
            closed.append(name)

        built.append(name)
        lazy.on_close(close)
        return {"protocol": name}

    shared = lambda: builder("modbus")  # noqa: E731
    lazy = LazyDriverOptions(
        {"modbus-tcp": shared, "modbus-rtu": shared, "opcua": lambda: builder("opcua"), "x": lambda: builder("x")}
    )
    assert built == [] and lazy.built() == [] and sorted(lazy) == ["modbus-rtu", "modbus-tcp", "opcua", "x"]
    assert lazy.get("opcua") == {"protocol": "opcua"}
    assert lazy.get("modbus-rtu") is lazy.get("modbus-tcp") and lazy.get("unknown") is None
    assert built == ["opcua", "modbus"] and lazy.built() == ["modbus-tcp", "modbus-rtu", "opcua"]
    await lazy.close()
    assert closed == ["opcua", "modbus"]
