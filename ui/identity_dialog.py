"""First run: the workstation identity that signs the audit log, as a short guided dialog.
Create the key (protected by the OS credential store, or a passphrase set here), export a
certificate request for the dealer CA, import the certificate it returns."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workshop.foundation.errors import WorkshopError
from workshop.services import identity

PROTECTIONS = {"OS credential store (recommended)": "keyring",
               "Passphrase": "passphrase", "Automatic": "auto"}


def identity_status() -> tuple[bool, str]:
    """(certified, what the technician should know) about who signs the audit records."""
    try:
        found = identity.show_identity()
    except WorkshopError as exc:  # e.g. a damaged settings file: the window still opens
        return False, f"Who signs the audit records is not known: {exc.message}"
    if found is None:
        return False, ("Audit records are signed by the built-in demo identity, accepted only "
                       "for the simulator. Set up this workstation's identity before working "
                       "on a real vehicle.")
    certified = str(found.status) == "certified"
    return certified, (f"Workstation {found.workstation}: {found.status}"
                       + ("" if certified else " — records are signed, but not by a "
                                             "certified identity until the dealer CA's "
                                             "certificate is imported"))


class IdentityDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Workstation identity")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.protection = QComboBox()
        self.protection.addItems(list(PROTECTIONS))
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat = QLineEdit()
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.create_button = QPushButton("1. Create the key")
        self.create_button.clicked.connect(self.create_key)
        self.csr_button = QPushButton("2. Export certificate request…")
        self.csr_button.clicked.connect(self._choose_csr)
        self.import_button = QPushButton("3. Import certificate…")
        self.import_button.clicked.connect(self._choose_cert)
        self.message = QLabel()
        self.message.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Protect the key with", self.protection)
        form.addRow("Passphrase (if chosen)", self.passphrase)
        form.addRow("Repeat passphrase", self.repeat)
        steps = QHBoxLayout()
        for b in (self.create_button, self.csr_button, self.import_button):
            steps.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addLayout(form)
        layout.addLayout(steps)
        layout.addWidget(self.message)
        self.refresh()

    def refresh(self) -> None:
        _, text = identity_status()
        self.status.setText(text)
        exists = identity.show_identity() is not None
        self.create_button.setEnabled(not exists)
        self.csr_button.setEnabled(exists)
        self.import_button.setEnabled(exists)

    def _ask(self, _prompt: str, _confirm: bool) -> str | None:
        return self.passphrase.text() or None

    def create_key(self) -> None:
        mode = PROTECTIONS[self.protection.currentText()]
        if mode == "passphrase" and (not self.passphrase.text()
                                     or self.passphrase.text() != self.repeat.text()):
            self.message.setText("Enter the same passphrase twice (it is not stored anywhere; "
                                 "the app asks for it when it signs).")
            return
        try:
            found = identity.init_identity(protect=mode, ask=self._ask)  # type: ignore[arg-type]
        except WorkshopError as exc:
            self.message.setText(f"{exc.message}\nWhat to do: {exc.hint or ''}")
            return
        self.message.setText(f"Created workstation {found.workstation} ({found.protection}).")
        self.refresh()

    def export_csr(self, path: Path) -> None:
        try:
            identity.write_csr(path, ask=self._ask)
        except WorkshopError as exc:
            self.message.setText(f"{exc.message}\nWhat to do: {exc.hint or ''}")
            return
        self.message.setText(f"Certificate request written to {path}: send it to the dealer CA.")

    def import_certificate(self, path: Path) -> None:
        try:
            found = identity.import_cert(path)
        except WorkshopError as exc:
            self.message.setText(f"{exc.message}\nWhat to do: {exc.hint or ''}")
            return
        self.message.setText(f"Certificate imported: {found.status}.")
        self.refresh()

    def _choose_csr(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Certificate request", "workstation.csr",
                                              "CSR (*.csr *.pem)")
        if path:
            self.export_csr(Path(path))

    def _choose_cert(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Certificate", "", "PEM (*.pem *.crt)")
        if path:
            self.import_certificate(Path(path))
