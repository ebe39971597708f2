"""Threaded HTTPS server (stdlib ``http.server`` + ``ssl``) for the supervisor and Kubernetes API port.

The TLS handshake runs in the connection's own thread, so a slow or half-open client never blocks the
accept loop. Client certificates are requested but optional (the API also accepts basic and bearer
credentials); a presented certificate must chain to the cluster client CA.
"""
from __future__ import annotations

import json
import select
import socket
import socketserver
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Callable, Iterable, Iterator
from urllib.parse import parse_qs, urlsplit

HANDSHAKE_TIMEOUT = 10.0
IDLE_TIMEOUT = 120.0


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    remote_addr: str  # "ip:port" as Go formats RemoteAddr
    peer_cert_der: bytes | None = None
    raw_path: str = ""
    proto: str = "HTTP/1.1"


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Iterable[bytes] = b""


Handler = Callable[[Request], Response]


def status_body(code: int, reason: str, message: str, details: dict | None = None) -> bytes:
    """A metav1.Status failure object as the apiserver's JSON encoder writes it."""
    doc: dict = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                 "message": message, "reason": reason}
    if details:
        doc["details"] = details
    doc["code"] = code
    return (json.dumps(doc, separators=(",", ":")) + "\n").encode()


def status_response(code: int, reason: str, message: str, details: dict | None = None,
                    close: bool = False) -> Response:
    headers = {"Content-Type": "application/json"}
    if close:
        headers["Connection"] = "close"
    return Response(code, headers, status_body(code, reason, message, details))


def format_addr(addr: tuple) -> str:
    host, port = addr[0], addr[1]
    if host.startswith("::ffff:"):
        host = host[len("::ffff:"):]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "HTTPSServer"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        return  # K3s does not log access lines

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        req = Request(
            method=self.command,
            path=split.path or "/",
            query=parse_qs(split.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self._read_body(),
            remote_addr=format_addr(self.client_address),
            peer_cert_der=self._peer_cert(),
            raw_path=self.path,
            proto=self.request_version,
        )
        try:
            resp = self.server.app(req)
        except Exception as exc:  # a handler bug must not kill the connection thread silently
            resp = status_response(500, "InternalError", f"Internal error occurred: {exc}",
                                   {"causes": [{"message": str(exc)}]})
        self._send(req, resp)

    def _peer_cert(self) -> bytes | None:
        conn = self.connection
        if isinstance(conn, ssl.SSLSocket):
            try:
                return conn.getpeercert(binary_form=True)
            except (ValueError, ssl.SSLError):
                return None
        return None

    def _send(self, req: Request, resp: Response) -> None:
        self.send_response_only(resp.status)
        headers = dict(resp.headers)
        if "Date" not in headers:
            headers["Date"] = self.date_time_string()
        body = resp.body
        if isinstance(body, (bytes, bytearray)):
            headers["Content-Length"] = str(len(body))
            self._write_headers(headers)
            if self.command != "HEAD":
                self.wfile.write(body)
        else:
            headers["Transfer-Encoding"] = "chunked"
            self._write_headers(headers)
            self._stream(body)
        if headers.get("Connection", "").lower() == "close":
            self.close_connection = True

    def _write_headers(self, headers: dict[str, str]) -> None:
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()

    def _stream(self, chunks: Iterable[bytes]) -> None:
        """A chunked body. An empty item is a tick of an idle stream (kubeapi's watch yields one at least
        every second): never written, since an empty chunk would end the body, but a moment to stop for a
        server shutdown or a client that went away."""
        iterator: Iterator[bytes] = iter(chunks)
        try:
            for chunk in iterator:
                if self.server.stopping.is_set():
                    break
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                elif self._client_gone():
                    self.close_connection = True
                    return
            self.wfile.write(b"0\r\n\r\n")
        except (OSError, ssl.SSLError):
            self.close_connection = True
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    def _client_gone(self) -> bool:
        """Whether the client closed the connection while a response streams. An HTTP/1.1 client sends
        nothing while it reads a response, so a readable socket means EOF, a TLS close_notify or a reset."""
        conn = self.connection
        try:
            readable = select.select([conn], [], [], 0)[0]
        except (OSError, ValueError):
            return True
        if not readable:
            return False
        try:
            conn.settimeout(0)
            data = conn.recv(1)
        except ssl.SSLWantReadError:  # only part of a TLS record so far
            return False
        except (OSError, ssl.SSLError):
            return True
        finally:
            try:
                conn.settimeout(IDLE_TIMEOUT)
            except OSError:
                pass
        if data:  # a pipelined request: it lost a byte, so the connection must not be reused
            self.close_connection = True
            return False
        return True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_CONNECT = _dispatch


class HTTPSServer(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, host: str, port: int, context: ssl.SSLContext, app: Handler) -> None:
        self.ssl_context = context
        self.app = app
        self.stopping = threading.Event()
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), _RequestHandler, bind_and_activate=False)

    def server_bind(self) -> None:
        if self.address_family == socket.AF_INET6:
            # Listening on "::" also accepts IPv4 (as Go's ":6443" does on dual-stack hosts).
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        # HTTPServer.server_bind would resolve the host name (getfqdn), which stalls without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def open(self) -> None:
        """Bind and listen; raises OSError (EADDRINUSE...) so the caller can report it like K3s."""
        try:
            self.server_bind()
            self.server_activate()
        except OSError:
            self.server_close()
            raise

    def finish_request(self, request: socket.socket, client_address: tuple) -> None:  # type: ignore[override]
        try:
            request.settimeout(HANDSHAKE_TIMEOUT)
            tls = self.ssl_context.wrap_socket(request, server_side=True)
            tls.settimeout(IDLE_TIMEOUT)
        except (OSError, ssl.SSLError):
            return  # failed handshakes are logged at debug level by Go's http.Server
        with self._conns_lock:
            self._conns.add(tls)
        try:
            _RequestHandler(tls, client_address, self)
        finally:
            with self._conns_lock:
                self._conns.discard(tls)
            try:
                tls.close()
            except OSError:
                pass

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        try:
            request.close()
        except OSError:
            pass

    def handle_error(self, request: object, client_address: tuple) -> None:
        return  # broken connections are normal (clients hang up on watches)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.2},
                                  name="https-listener", daemon=True)
        self._serving = True
        thread.start()
        return thread

    def stop(self) -> None:
        self.stopping.set()
        if getattr(self, "_serving", False):
            self.shutdown()  # blocks until serve_forever returns, so only when it was started
            self._serving = False
        self.server_close()
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def server_context(cert_file: str, key_file: str, client_ca_file: str | None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert_file, key_file)
    if client_ca_file:
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.load_verify_locations(client_ca_file)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx
