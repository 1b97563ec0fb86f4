"""TLS under a DoIP connection (ISO 13400-2:2019: TCP port 3496), for tester and gateway.

A DoIP connection reads on one thread at a time and writes from others (keep-alive, several ECUs'
clients). OpenSSL does not allow one SSL object to be read and written concurrently, so
the TLS state is a memory-BIO `ssl.SSLObject` behind one lock, and only the plain socket
read (which needs no TLS state) runs outside it. `TlsChannel` offers the socket calls the
DoIP code uses: sendall, recv, shutdown, close.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time

from workshop.transport.doip_reception import wait_readable
from workshop.transport.errors import TransportError

TLS_PORT = 3496  # ISO 13400-2:2019 TCP_DATA_SECURED
HANDSHAKE_TIMEOUT_S = 5.0

CLIENT_CERT_REFUSED = {"TLSV13_ALERT_CERTIFICATE_REQUIRED", "SSLV3_ALERT_BAD_CERTIFICATE",
                       "TLSV1_ALERT_UNKNOWN_CA", "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
                       "TLSV1_ALERT_ACCESS_DENIED", "SSLV3_ALERT_HANDSHAKE_FAILURE"}


VERIFY_REASONS = {  # OpenSSL X509_V_ERR_* codes, in words
    2: "comes from a CA this trust store does not hold",
    18: "is self-signed",
    19: "chains to a root this trust store does not hold",
    20: "comes from a CA this trust store does not hold",
    10: "has expired",
    9: "is not valid yet",
    26: "is not meant for a TLS server (key usage)",
}


class TlsError(TransportError):
    """The TLS handshake with the DoIP gateway failed; the message says which side refused."""


def explain(exc: ssl.SSLError, peer: str) -> TlsError:
    """An ssl error at a DoIP gateway, in words with what to do."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        why = VERIFY_REASONS.get(exc.verify_code, "did not verify")
        return TlsError(f"the DoIP gateway {peer} is not trusted: its TLS certificate {why} "
                        f"({exc.verify_message})",
                        hint="check that this is the vehicle's gateway; if it is, install "
                             "its maker's DoIP gateway root into the trust store's "
                             "doip-gateway/ folder")
    reason = exc.reason or ""
    if reason in CLIENT_CERT_REFUSED:
        return TlsError(f"the DoIP gateway {peer} refused this workstation's TLS client "
                        f"certificate ({reason.lower().replace('_', ' ')})",
                        hint="set up the workstation identity (`workshop identity init`, "
                             "then a certificate from the dealer CA) that the vehicle "
                             "maker's gateways accept")
    return TlsError(f"TLS with the DoIP gateway {peer} failed: {reason or exc}",
                    hint="check that the port is the gateway's TLS port (3496)")


class TlsChannel:
    def __init__(self, sock: socket.socket, context: ssl.SSLContext, *, server_side: bool
                 ) -> None:
        self.sock = sock
        self._in, self._out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._in, self._out, server_side=server_side)
        self._lock = threading.Lock()

    def handshake(self, timeout_s: float = HANDSHAKE_TIMEOUT_S) -> None:
        """Raises ssl.SSLError (see `explain`) or OSError."""
        previous = self.sock.gettimeout()
        self.sock.settimeout(timeout_s)
        try:
            while True:
                with self._lock:
                    try:
                        self._tls.do_handshake()
                        done = True
                    except ssl.SSLWantReadError:
                        done = False
                    finally:
                        self._flush()
                if done:
                    return
                data = self.sock.recv(65536)
                if not data:
                    raise ConnectionResetError("the peer closed the connection during the "
                                               "TLS handshake")
                with self._lock:
                    self._in.write(data)
        finally:
            self.sock.settimeout(previous)

    def _flush(self) -> None:
        out = self._out.read()
        if out:
            self.sock.sendall(out)

    def peer_certificate(self) -> bytes | None:
        return self._tls.getpeercert(binary_form=True)

    def sendall(self, data: bytes) -> None:
        with self._lock:
            self._tls.write(data)
            self._flush()

    def recv(self, size: int, timeout_s: float | None = None) -> bytes:
        """Plain bytes; b"" when the peer closed (close_notify or TCP end); TimeoutError
        when `timeout_s` passes first (a record can arrive in pieces)."""
        end = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            with self._lock:
                try:
                    data = self._tls.read(size)
                except ssl.SSLWantReadError:
                    data = None
                except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                    return b""
                finally:
                    self._flush()  # TLS 1.3 answers some records (key update) itself
            if data is not None:
                return data
            if end is not None and not wait_readable(self.sock, end - time.monotonic()):
                raise TimeoutError("no complete TLS record in time")
            raw = self.sock.recv(65536)
            if not raw:
                return b""
            with self._lock:
                self._in.write(raw)

    def shutdown(self, how: int) -> None:
        self.sock.shutdown(how)

    def close(self) -> None:
        self.sock.close()
