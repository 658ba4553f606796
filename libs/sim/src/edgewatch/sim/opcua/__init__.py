"""OPC UA simulator (asyncua).

``model`` (variables and methods as data), ``address`` (building them in a server), ``server`` (:class:`OpcUaSim`,
a real asyncua server with a secured endpoint), ``plant`` (a batch mixer with dynamics, writable set-points and
methods, EdgeX's Simulation nodes, bulk variables), ``launch`` (``start_opcua_sim``) and ``__main__``
(``python -m edgewatch.sim.opcua``).

Dependencies run one way: ``__main__`` -> ``launch`` -> ``plant`` / ``server`` -> ``address`` -> ``model`` ->
edgewatch.protocols.opcua.
"""

from __future__ import annotations

__all__: list[str] = []
