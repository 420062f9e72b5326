"""Peers on 127.0.0.1 for tests of outbound calls: they count connections and answer by hand.

A refused call must never reach a peer (``connections`` stays 0); a slow peer dribbles its
answer byte by byte; a TLS peer records the name the client asked for.
"""

import socket
import ssl
import threading


class Peer:
    """A TCP server on 127.0.0.1 that counts connections and runs ``handler`` for each."""

    def __init__(self, handler, tls=None):
        self.handler, self.tls = handler, tls
        self.connections = 0
        self.seen = {}
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                request += chunk
            self.seen["request"] = request.decode("latin-1")
            self.handler(conn)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self.sock.close()
        self.thread.join(5)


def answer_ok(conn):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
