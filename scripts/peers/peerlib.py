"""Shared plumbing for the project's loopback test peers.

Every peer binds 127.0.0.1 on a port the kernel picks, prints one JSON line on stdout
(`{"port": N, ...}`) once it is ready, and exits when its standard input reaches end of file, so a
test process that dies never leaves a peer behind. Run one by hand with `< /dev/tty` or `sleep inf |`.
"""
import datetime
import ipaddress
import json
import os
import signal
import socket
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# A parent may spawn us from a thread with SIGTERM blocked (Swift's test runner does): the mask is
# inherited, and a blocked SIGTERM would leave us running forever. Take the defaults back.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT, signal.SIGHUP})
signal.signal(signal.SIGTERM, signal.SIG_DFL)


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, handler, tls_context=None):
        super().__init__(("127.0.0.1", 0), handler)
        self.tls_context = tls_context
        self.connection_count = 0
        self.lock = threading.Lock()

    def get_request(self):
        sock, addr = super().get_request()
        with self.lock:
            self.connection_count += 1
        if self.tls_context is not None:
            sock = self.tls_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        # TLS handshakes that the client aborts (certificate rejected) are expected in tests.
        pass


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # Headers and body go out in two writes: with Nagle on, the body waits for the client's
        # delayed ACK of the headers (40 ms), which would be billed to whoever measures the client.
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, fmt, *args):
        if os.environ.get("PEER_VERBOSE"):
            sys.stderr.write("%s %s\n" % (self.__class__.__name__, fmt % args))

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send_bytes(self, status, body, content_type="application/json", extra=None):
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status, obj, extra=None):
        self.send_bytes(status, json.dumps(obj).encode(), "application/json", extra)

    def drop_connection(self):
        """Closes the socket without an HTTP response."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.connection.close()


def make_tls_material(directory):
    """A throwaway CA and a server certificate for 127.0.0.1/localhost, written as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    os.makedirs(directory, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kmesh-ecs test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {n: os.path.join(directory, n) for n in ("ca.pem", "server.pem", "server.key")}
    with open(paths["ca.pem"], "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(paths["server.pem"], "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths["server.key"], "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(paths["server.pem"], paths["server.key"])
    return context, paths["ca.pem"]


def wait_for_parent():
    """Blocks until stdin reaches end of file: the parent has exited or closed our stdin."""
    try:
        while sys.stdin.buffer.read(1024):
            pass
    except (OSError, ValueError):
        pass


def serve(server, ready_info, foreground=False):
    """Prints the ready line, serves until stdin closes (or forever when stdin is a terminal)."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    info = {"port": server.server_address[1], "pid": os.getpid()}
    info.update(ready_info)
    print(json.dumps(info), flush=True)
    if foreground or sys.stdin is None or sys.stdin.isatty():
        thread.join()
    else:
        wait_for_parent()
    os._exit(0)


def record_secret(value):
    """Appends a secret this peer handed out (a token, a secret access key) to $KMESH_TEST_SECRETS_FILE,
    so that scripts/check_no_secrets.py can prove no output of the test suite contains it."""
    path = os.environ.get("KMESH_TEST_SECRETS_FILE")
    if path and value:
        with open(path, "a") as f:
            f.write(value + "\n")
