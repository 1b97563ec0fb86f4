"""A connection to a vehicle: the adapter's bus, and the simulated vehicle when it is `sim`;
or a DoIP gateway (`doip`), and the simulated vehicle behind its own gateway (`sim-doip`)."""

from __future__ import annotations

import ssl
from types import TracebackType

from workshop.diagnostics.discovery import FunctionalAnswer, FunctionalRequest
from workshop.foundation.errors import ConfigError
from workshop.services.doip_tls import simulated_gateway_context, workstation_tls_context
from workshop.simulator import SimulatedVehicle
from workshop.simulator.doip_gateway import DoipGateway
from workshop.transport.adapters import SIM_DOIP, AdapterConfig, open_bus
from workshop.transport.doip import DoipConnection
from workshop.transport.doip_functional import functional_request
from workshop.transport.doip_tls import TLS_PORT
from workshop.transport.isotp_link import ADDRESSING_29BIT_FIXED, LinkAddress, LinkParams
from workshop.transport.router import BusEndpoint
from workshop.uds.client import EcuClient, EcuTarget
from workshop.uds.targets import link_address
from workshop.vehicles import EcuDefinition, VehicleDefinition
from workshop.vehicles.odx_source import link_settings

DISCOVERY_WINDOW_S = 0.5


class VehicleConnection:
    """`with VehicleConnection(adapter, vehicle) as conn:` opens the bus (and the simulator).

    `simulated` is what the `sim` adapter's vehicle really has, when that differs from what
    the tester knows (`vehicle`), e.g. an ECU the definition does not list.
    """

    def __init__(self, adapter: AdapterConfig, vehicle: VehicleDefinition, *,
                 simulated: VehicleDefinition | None = None,
                 tls_context: ssl.SSLContext | None = None) -> None:
        self.adapter = adapter
        # --tls: the workstation's TLS context; by default the demo identity on the
        # simulator, else the installation's identity (its passphrase asked on the terminal)
        self.tls_context = tls_context
        self.vehicle = vehicle
        self.simulated = simulated or vehicle
        self.simulator: SimulatedVehicle | None = None
        self.endpoint: BusEndpoint | None = None
        self.gateway: DoipGateway | None = None  # sim-doip: the simulated vehicle's gateway
        self.doip: DoipConnection | None = None  # doip, sim-doip: the tester's connection

    def open(self) -> VehicleConnection:
        if self.adapter.is_simulated:
            # The one place the simulator is chosen: the `sim` adapter brings its vehicle.
            self.simulator = SimulatedVehicle(self.simulated, self.adapter).start()
        try:
            if self.adapter.is_doip:
                self.doip = self._open_doip()
            else:
                self.endpoint = BusEndpoint(open_bus(self.adapter))
        except Exception:
            self.close()
            raise
        return self

    def _open_doip(self) -> DoipConnection:
        tls = self.adapter.tls
        if self.adapter.interface == SIM_DOIP:
            assert self.simulator is not None
            # --tls: the simulated gateway serves TLS only, with its demo-PKI certificate,
            # and asks for the workstation's
            self.gateway = DoipGateway(
                self.simulator, "127.0.0.1", 0,
                tls=simulated_gateway_context() if tls else None, tls_only=tls).start()
            host = self.gateway.host
            port = self.gateway.tls_port if tls and self.gateway.tls_port else self.gateway.port
            # our own gateway's TLS port, not 3496 on loopback, where another program may be
            tls_port = self.gateway.tls_port
        else:
            if not self.adapter.host:
                raise ConfigError("the doip adapter needs the gateway's address",
                                  hint="give --host (e.g. --host 169.254.10.1) and, if it "
                                       "is not 13400, --port")
            host = self.adapter.host
            port = self.adapter.port or (TLS_PORT if tls else self.vehicle.doip.port)
            tls_port = TLS_PORT
        context = None
        if tls:
            context = self.tls_context or workstation_tls_context(
                simulator=self.adapter.is_simulated)
        return DoipConnection(host, port, tester_address=self.vehicle.doip.tester_address,
                              tls=context, tls_port=tls_port)

    @property
    def transport(self) -> BusEndpoint | DoipConnection:
        """What ECU clients run over: the CAN bus endpoint or the DoIP connection."""
        if self.doip is not None:
            return self.doip
        return self._endpoint()

    def close(self) -> None:
        if self.doip is not None:
            self.doip.close()
            self.doip = None
        if self.gateway is not None:
            self.gateway.shutdown()
            self.gateway = None
        if self.endpoint is not None:
            self.endpoint.close()
            self.endpoint = None
        if self.simulator is not None:
            self.simulator.shutdown()
            self.simulator = None

    def __enter__(self) -> VehicleConnection:
        return self.open()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @property
    def extended_ids(self) -> bool:
        return self.vehicle.addressing == ADDRESSING_29BIT_FIXED

    def _endpoint(self) -> BusEndpoint:
        if self.endpoint is None:
            raise RuntimeError("connection is not open")
        return self.endpoint

    # -- ECUs ------------------------------------------------------------------------------

    def target(self, ecu: EcuDefinition | LinkAddress, name: str | None = None) -> EcuTarget:
        doip = self.doip is not None
        if isinstance(ecu, EcuDefinition):
            # the description's DID sizes split snapshot records the definition does not
            sizes = {} if ecu.odx is None else {
                did: d.size for did, d in ecu.odx.data_descriptions().dids.items() if d.size}
            sizes.update(self.vehicle.snapshot_did_sizes)
            return EcuTarget(ecu.name, link_address(self.vehicle, ecu),
                             LinkParams(fd=ecu.fd, **link_settings(ecu)),
                             ecu.seed_key, snapshot_did_sizes=tuple(sizes.items()),
                             dtc_format=ecu.dtc_format,
                             doip_address=self.vehicle.doip.address(ecu.name) if doip else None)
        # Over DoIP an ECU the definition does not list is known by its logical address,
        # which functional() gives as its "response ID".
        return EcuTarget(name or ecu.describe(), ecu, LinkParams(fd=self.vehicle.fd),
                         doip_address=ecu.response_id if doip else None)

    def client(self, ecu_name: str) -> EcuClient:
        return EcuClient(self.transport, self.target(self.vehicle.ecu(ecu_name)))

    def is_response_id(self, arbitration_id: int) -> bool:
        if self.extended_ids:
            tester = self.vehicle.tester_address
            return arbitration_id & 0x1FFFFF00 == 0x18DA0000 | tester << 8
        known = {e.response_id for e in self.vehicle.ecus}
        return arbitration_id in known or 0x7E8 <= arbitration_id <= 0x7EF

    def functional(self, payload: bytes, window_s: float = DISCOVERY_WINDOW_S, *,
                   until_listed_answered: bool = False) -> list[FunctionalAnswer]:
        """Answers to a functional request within the window (extended while ECUs send 0x78);
        `until_listed_answered` stops early once every ECU of the definition answered."""
        if self.doip is not None:
            return self._doip_functional(payload, window_s, until_listed_answered)
        request = FunctionalRequest(self._endpoint(), self.vehicle.functional_id,
                                    self.extended_ids, self.is_response_id)
        listed = {e.response_id for e in self.vehicle.ecus} if until_listed_answered else None
        return request.run(payload, window_s, listed)

    def _doip_functional(self, payload: bytes, window_s: float, until_listed_answered: bool
                         ) -> list[FunctionalAnswer]:
        """Through the gateway's functional address. An ECU of the definition answers as its
        CAN response ID (what callers match on), any other one as its logical address."""
        assert self.doip is not None
        doip = self.vehicle.doip
        listed = set(doip.ecu_addresses.values()) if until_listed_answered else None
        answers = functional_request(self.doip, doip.functional_address, payload, window_s,
                                     listed)
        out = []
        for address, data in answers.items():
            name = doip.ecu_at(address)
            out.append(FunctionalAnswer(
                self.vehicle.ecu(name).response_id if name else address, data))
        return out

    def discover(self) -> list[int]:
        """Response IDs of every ECU that answers a functional TesterPresent, listed in the
        definition or not: always the full window."""
        return [a.response_id for a in self.functional(b"\x3e\x00") if a.payload[0] == 0x7E]

    def address_for_response(self, response_id: int) -> LinkAddress:
        if self.doip is not None:  # a logical address (see target()): no CAN IDs to pair
            return LinkAddress(self.vehicle.addressing, response_id, response_id,
                               self.vehicle.functional_id)
        if self.extended_ids:
            ecu = response_id & 0xFF
            request_id = 0x18DA0000 | ecu << 8 | self.vehicle.tester_address
        else:
            request_id = response_id - 8  # the ISO 15765-4 pairing 0x7E0..7 / 0x7E8..F
        return LinkAddress(self.vehicle.addressing, request_id, response_id,
                           self.vehicle.functional_id)
