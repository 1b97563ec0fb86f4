"""The connection panel: a CAN adapter (interface, channel, bitrates) or Ethernet (DoIP: the
gateway's address, port, TLS, and discovery of the gateways on the cable), and the vehicle;
the last successful choice is remembered in the user's settings."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ui.session import Session
from ui.views.common import VERDICT_COLOURS
from workshop.foundation.errors import WorkshopError
from workshop.foundation.events import CancelToken
from workshop.foundation.settings import Settings, load_settings, save_settings
from workshop.services.session import (
    BITRATES,
    DATA_BITRATES,
    DOIP_CHOICES,
    AdapterChoice,
    adapter_interfaces,
    available_adapters,
    discover_gateways,
    vehicle_names,
)
from workshop.transport.adapters import DOIP, SIM_DOIP
from workshop.transport.doip_discovery import DiscoveredEntity
from workshop.transport.doip_tls import TLS_PORT

DOIP_PORT = 13400


def _rate(bits: int) -> str:
    return f"{bits // 1_000_000} Mbit/s" if bits % 1_000_000 == 0 else f"{bits // 1000} kbit/s"


def gateway_label(entity: DiscoveredEntity) -> str:
    tls = {True: "TLS", False: "no TLS", None: "TLS not checked"}[entity.tls]
    return f"VIN {entity.vin} at {entity.ip} port {entity.port}, {tls}"


class ConnectionPanel(QWidget):
    """Adapter (a detected one fills interface and channel), interface, channel, vehicle,
    bitrate and CAN FD data bitrate from the standard values; over DoIP the gateway's
    address, port and TLS instead of the CAN settings."""

    def __init__(self, session: Session, vehicle: str, channel: str | None) -> None:
        super().__init__()
        self.session = session
        self.channel_given = channel  # the simulator's bus channel (tests, screenshots)
        self._gateway = Settings()  # the remembered DoIP gateway (doip_host, _port, _tls)
        self.adapter = QComboBox()
        self._choices = [AdapterChoice("sim", channel or "workshop-sim", "Simulated vehicle"),
                         *DOIP_CHOICES]
        self.adapter.addItems([c.label for c in self._choices])
        self.adapter.activated.connect(self._adapter_chosen)
        refresh = QPushButton("Find adapters")
        refresh.clicked.connect(self.refresh_adapters)
        self.interface = QComboBox()
        self.interface.addItems(adapter_interfaces())
        self.interface.setToolTip("python-can interface: socketcan, pcan, kvaser, vector, "
                                  "ixxat, … (sim: the simulated vehicle; doip: Ethernet)")
        self.interface.currentTextChanged.connect(self._interface_changed)
        self.channel_label = QLabel("Channel")
        self.channel = QLineEdit()
        self.channel.setPlaceholderText("channel, e.g. can0 or PCAN_USBBUS1")
        self.channel.setMinimumWidth(140)
        self._build_doip_row()
        self.vehicle = QComboBox()
        self.vehicle.addItems(vehicle_names())
        if self.vehicle.findText(vehicle) < 0:  # a definition file (e.g. one naming a PDX)
            self.vehicle.addItem(vehicle)
        self.vehicle.setCurrentText(vehicle)
        self.bitrate_label = QLabel("Bitrate")
        self.bitrate = QComboBox()
        self.bitrate.addItem("vehicle's bitrate", None)
        for rate in BITRATES:
            self.bitrate.addItem(_rate(rate), rate)
        self.fd = QCheckBox("CAN FD")
        self.data_bitrate = QComboBox()
        self.data_bitrate.addItem("vehicle's data bitrate", None)
        for rate in DATA_BITRATES:
            self.data_bitrate.addItem(f"data {_rate(rate)}", rate)
        self.data_bitrate.setEnabled(False)
        self.fd.toggled.connect(self.data_bitrate.setEnabled)
        self.button = QPushButton("Connect")
        self.button.clicked.connect(self.toggle)
        self.state = QLabel("Not connected")
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        first, second = QHBoxLayout(), QHBoxLayout()
        w: QWidget
        for w in (QLabel("Adapter"), self.adapter, refresh, QLabel("Interface"),
                  self.interface, self.channel_label, self.channel):
            first.addWidget(w)
        first.addStretch(1)
        for w in (QLabel("Vehicle"), self.vehicle, self.bitrate_label, self.bitrate, self.fd,
                  self.data_bitrate, self.button, self.state):
            second.addWidget(w)
        second.addStretch(1)
        rows.addLayout(first)
        rows.addWidget(self.doip_row)
        rows.addLayout(second)
        self._restore()
        session.connected.connect(self._connected)
        session.disconnected.connect(self._disconnected)
        session.connect_failed.connect(lambda _what, _hint: self._disconnected())

    def _build_doip_row(self) -> None:
        self.doip_row = QWidget()
        self.host = QLineEdit()
        self.host.setPlaceholderText("e.g. 169.254.10.1")
        self.host.setMinimumWidth(140)
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(DOIP_PORT)
        self.tls = QCheckBox("TLS")
        self.tls.setToolTip("DoIP over TLS (port 3496): the gateway's certificate is checked "
                            "against the trust store and this workstation's is shown to it")
        self.tls.toggled.connect(self._tls_toggled)
        self.discover_button = QPushButton("Discover")
        self.discover_button.setToolTip("ask the address typed (this computer when empty) "
                                        "which vehicles answer; nothing is broadcast")
        self.discover_button.clicked.connect(self.discover)
        self.gateways = QComboBox()
        self.gateways.setMinimumWidth(320)
        self.gateways.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.gateways.setPlaceholderText("press Discover to find gateways")
        self.gateways.activated.connect(self._gateway_chosen)
        self._found: list[DiscoveredEntity] = []
        row = QHBoxLayout(self.doip_row)
        row.setContentsMargins(0, 0, 0, 0)
        w: QWidget
        for w in (QLabel("Gateway address"), self.host, QLabel("Port"), self.port, self.tls,
                  self.discover_button, self.gateways):
            row.addWidget(w)
        row.addStretch(1)

    def _restore(self) -> None:
        """The user's last adapter; the simulator when a channel was given (tests)."""
        self.restore_notes: list[str] = []  # what in the settings was not used, in words
        try:
            s = load_settings(self.restore_notes)
        except WorkshopError as exc:  # the app says what is wrong with the file when it opens
            s = Settings()
            self.restore_notes.append(f"settings not read, defaults shown: {exc.message}")
        self.state.setToolTip("\n".join(self.restore_notes))
        self._gateway = s
        interface = "sim" if self.channel_given else (s.adapter_interface or "sim")
        self.interface.setCurrentText(interface)
        self.channel.setText(self.channel_given or
                             (s.adapter_channel if interface != "sim" else ""))
        for box, saved in ((self.bitrate, s.adapter_bitrate),
                           (self.data_bitrate, s.adapter_data_bitrate)):
            index = box.findData(int(saved)) if saved.isdigit() else -1
            box.setCurrentIndex(max(index, 0))
        if s.adapter_data_bitrate.isdigit() and interface != "sim":
            self.fd.setChecked(True)
        self._interface_changed(interface)

    @property
    def over_doip(self) -> bool:
        return self.interface.currentText() in (DOIP, SIM_DOIP)

    def _interface_changed(self, interface: str) -> None:
        if interface in ("sim", SIM_DOIP) and not self.channel.text():
            self.channel.setText(self.channel_given or "workshop-sim")
        doip = interface in (DOIP, SIM_DOIP)
        # the simulated vehicle's CAN side keeps its channel; over Ethernet no bitrate applies
        for w in (self.channel_label, self.channel, self.bitrate_label, self.bitrate, self.fd,
                  self.data_bitrate):
            w.setVisible(not doip)
        self.doip_row.setVisible(doip)
        if interface == DOIP and not self.host.text():
            self._fill_gateway()
        # the simulated gateway listens on 127.0.0.1 at a free port of its own
        self.host.setEnabled(interface == DOIP)
        self.port.setEnabled(interface == DOIP)
        index = next((i for i, c in enumerate(self._choices) if c.interface == interface), -1)
        if index >= 0:
            self.adapter.setCurrentIndex(index)

    def _fill_gateway(self) -> None:
        """The last gateway connected to, when Ethernet is chosen with no address typed."""
        g = self._gateway
        if not g.doip_host:
            return
        self.host.setText(g.doip_host)
        self.tls.setChecked(g.doip_tls)  # first: ticking it moves the port to 3496
        if g.doip_port is not None:
            self.port.setValue(g.doip_port)

    def _tls_toggled(self, on: bool) -> None:
        if on and self.port.value() == DOIP_PORT:
            self.port.setValue(TLS_PORT)
        elif not on and self.port.value() == TLS_PORT:
            self.port.setValue(DOIP_PORT)

    def _adapter_chosen(self, index: int) -> None:
        choice = self._choices[index]
        self.interface.setCurrentText(choice.interface)
        if choice.interface not in (DOIP, SIM_DOIP):
            self.channel.setText(choice.channel)

    def refresh_adapters(self) -> None:
        def work(_e: Any, _c: CancelToken) -> list[AdapterChoice]:
            return available_adapters()

        self.session.run(work, on_done=self._adapters)

    def _adapters(self, found: list[AdapterChoice]) -> None:
        self._choices = [c if c.interface != "sim" else
                         AdapterChoice("sim", self.channel_given or c.channel, c.label)
                         for c in found]
        self.adapter.clear()
        self.adapter.addItems([c.label for c in self._choices])

    # -- DoIP discovery --------------------------------------------------------------------

    def discover(self) -> None:
        host = self.host.text().strip() or None
        # discovery is UDP 13400 (ISO 13400-2), unless the address field names another port
        port = None if self.tls.isChecked() else self.port.value()

        def work(_e: Any, _c: CancelToken) -> list[DiscoveredEntity]:
            return discover_gateways(host, port)

        self.discover_button.setEnabled(False)
        self.gateways.clear()
        self.gateways.setPlaceholderText("looking for gateways…")
        self.session.run(work, on_done=self._discovered,
                         on_failed=lambda _w, _h: self._discovered([]))

    def _discovered(self, found: list[DiscoveredEntity]) -> None:
        self.discover_button.setEnabled(True)
        self._found = found
        self.gateways.clear()
        self.gateways.addItems([gateway_label(e) for e in found])
        self.gateways.setPlaceholderText("no gateway answered: check the cable and the "
                                         "address")
        # the first one is shown; choosing it from the list fills address, port and TLS
        self.gateways.setCurrentIndex(0 if found else -1)
        self.gateways.setToolTip(f"{len(found)} found: choose one to connect to it")

    def _gateway_chosen(self, index: int) -> None:
        if not 0 <= index < len(self._found):
            return
        entity = self._found[index]
        self.interface.setCurrentText(DOIP)
        self.host.setText(entity.ip)
        self.tls.setChecked(bool(entity.tls))
        self.port.setValue(TLS_PORT if entity.tls else entity.port)

    # -- connect ---------------------------------------------------------------------------

    def toggle(self) -> None:
        if self.session.conn is not None:
            self.session.disconnect_vehicle()
            return
        self.state.setText("Connecting…")
        self.state.setStyleSheet("")
        interface = self.interface.currentText().strip() or "sim"
        doip = self.over_doip
        self.session.connect_vehicle(
            self.vehicle.currentText(), interface, self.channel.text().strip() or None,
            None if doip else self.bitrate.currentData(), self.fd.isChecked() and not doip,
            data_bitrate=self.data_bitrate.currentData()
            if self.fd.isChecked() and not doip else None,
            host=self.host.text().strip() or None if interface == DOIP else None,
            port=self.port.value() if interface == DOIP else None,
            tls=self.tls.isChecked() if doip else False)

    def _remember(self, conn: Any) -> None:
        a = conn.adapter
        try:
            s = load_settings()
            if a.interface == DOIP and conn.doip is not None:  # not sim-doip's own port
                s = replace(s, doip_host=conn.doip.host, doip_port=conn.doip.port,
                            doip_tls=conn.doip.tls)
            save_settings(replace(
                s, adapter_interface=a.interface,
                adapter_channel="" if a.is_simulated or a.is_doip else (a.channel or ""),
                adapter_bitrate=str(self.bitrate.currentData() or ""),
                adapter_data_bitrate=str(self.data_bitrate.currentData() or "")
                if self.fd.isChecked() else ""))
            self._gateway = s
        except WorkshopError as exc:  # a damaged settings file: said, the connection stays
            self.state.setToolTip(f"not remembered: {exc.message}")

    def _connected(self, conn: Any) -> None:
        self._remember(conn)
        a = conn.adapter
        if a.is_doip and conn.doip is not None:
            where = ("simulated vehicle over DoIP" if a.is_simulated else
                     f"DoIP gateway {conn.doip.host} port {conn.doip.port}")
            link = f"{where}{', TLS' if conn.doip.tls else ''}"
        else:
            kind = ("simulated vehicle" if a.is_simulated else
                    f"{a.interface} {a.channel or ''}".strip())
            link = f"{kind}, {a.bitrate // 1000} kbit/s"
        self.state.setText(f"Connected: {conn.vehicle.name} on {link}")
        self.state.setStyleSheet(f"color: {VERDICT_COLOURS['success']}")
        self.button.setText("Disconnect")

    def _disconnected(self) -> None:
        self.state.setText("Not connected")
        self.state.setStyleSheet("")
        self.button.setText("Connect")
