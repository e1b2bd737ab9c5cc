#!/usr/bin/env python3
"""A small real HTTP/1.1 backend for the fulcrum integration tests (standard library only).

Run as a process: `backend.py --id NAME [--port P] [--drop | --tcp-echo]`. It binds 127.0.0.1,
prints one JSON line {"event": "listening", "port": P} and then one JSON line per event on
stdout, flushed, so a test can count exactly what reached it:
  {"event": "conn", "conn": N}                                   a connection was accepted
  {"event": "request", "conn": N, "method": M, "path": P, "id": X-Request-Id or null,
   "body": bytes of body received}                               a request head was read
  {"event": "eof", "conn": N, "lines": K}                         (--tcp-echo) client half-closed
  {"event": "health", "conn": N, "status": S}                     /health answered with S

HTTP endpoints (every answer carries X-Backend: NAME, X-Path and the request's X-Request-Id):
  /status/NNN    answer with status NNN          /echo        echo the body (length or chunked)
  /bytes/N       N pseudo-random bytes (length)  /chunked/N   the same bytes, chunked
  /slow/MS       answer after MS milliseconds    /ws          websocket echo (RFC 6455)
  /drop          read the request, close without answering
  /health        status set by /set-health/NNN (200 at start), body "health NNN from NAME\n"
  /set-health/NNN  sets the /health status (health-check tests flip a server with it)
  /set-status/NNN  sets the status of "anything else" below (outlier tests make a server fail)
  /set-delay/MS    delays every later answer (health included) by MS ms (chaos: a slow server)
  anything else  200 (or the /set-status one) with body "backend NAME\\n"
Bodies carry X-Body-Sha256 and X-Body-Length. Keep-alive as HTTP/1.1 says.
`--drop` makes every request behave as /drop. `--tcp-echo` is not HTTP: each line received is
answered with "NAME: line"; on the client's half-close it sends "bye NAME K\\n" and closes.
`--tls-cert FILE --tls-key FILE` serves TLS instead of plain TCP.
"""

import argparse
import base64
import hashlib
import json
import random
import socket
import socketserver
import ssl
import sys
import threading
import time

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC11B85"
REASONS = {200: "OK", 101: "Switching Protocols", 201: "Created", 204: "No Content",
           404: "Not Found", 500: "Internal Server Error", 503: "Service Unavailable"}

_print_lock = threading.Lock()
_conn_counter = 0
_health_status = 200
_default_status = 200
_delay_seconds = 0.0


def emit(event):
    with _print_lock:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()


def set_health_status(status):
    global _health_status
    _health_status = status


def set_default_status(status):
    global _default_status
    _default_status = status


def set_delay(milliseconds):
    global _delay_seconds
    _delay_seconds = milliseconds / 1000


def pattern_bytes(n):
    """The body of /bytes/N and /chunked/N: not periodic, so a reordered block changes the hash."""
    return random.Random(n).randbytes(n)


class Closed(Exception):
    pass


def read_line(rfile, limit=65536):
    line = rfile.readline(limit)
    if not line:
        raise Closed()
    return line


def read_exact(rfile, n):
    data = rfile.read(n)
    if len(data) != n:
        raise Closed()
    return data


def read_chunked(rfile):
    parts = []
    while True:
        size_line = read_line(rfile).split(b";", 1)[0].strip()
        size = int(size_line, 16)
        if size == 0:
            while read_line(rfile) not in (b"\r\n", b"\n"):  # trailers
                pass
            return b"".join(parts)
        parts.append(read_exact(rfile, size))
        read_exact(rfile, 2)


class HttpHandler(socketserver.StreamRequestHandler):
    server_id = "?"
    drop_all = False

    def handle(self):
        global _conn_counter
        with _print_lock:
            _conn_counter += 1
            self.conn = _conn_counter
        emit({"event": "conn", "conn": self.conn})
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while self.serve_one():
                pass
        except (Closed, ConnectionError, ValueError):
            pass

    def serve_one(self):
        request_line = read_line(self.rfile)
        while request_line in (b"\r\n", b"\n"):
            request_line = read_line(self.rfile)
        method, target, version = request_line.decode("latin-1").rstrip("\r\n").split(" ")
        headers = {}
        while True:
            line = read_line(self.rfile).decode("latin-1").rstrip("\r\n")
            if not line:
                break
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
        path = target.split("?", 1)[0]
        connection = headers.get("connection", "").lower()
        keep_alive = ("close" not in connection if version == "HTTP/1.1"
                      else "keep-alive" in connection)
        if headers.get("expect", "").lower() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = read_chunked(self.rfile)
        else:
            body = read_exact(self.rfile, int(headers.get("content-length", "0")))
        emit({"event": "request", "conn": self.conn, "method": method, "path": target,
              "id": headers.get("x-request-id"), "body": len(body),
              "forwarded_proto": headers.get("x-forwarded-proto")})

        if self.drop_all or path == "/drop":
            return False
        extra = {"X-Backend": self.server_id, "X-Path": target}
        if "x-request-id" in headers:
            extra["X-Request-Id"] = headers["x-request-id"]
        parts = path.strip("/").split("/")
        if parts[0] == "set-delay" and len(parts) == 2:
            set_delay(int(parts[1]))
            return self.respond(200, b"ok\n", extra, keep_alive)
        if _delay_seconds:
            time.sleep(_delay_seconds)
        if path == "/ws" and headers.get("upgrade", "").lower() == "websocket":
            self.websocket(headers, extra)
            return False
        if path == "/health":
            status = _health_status
            emit({"event": "health", "conn": self.conn, "status": status})
            return self.respond(status, f"health {status} from {self.server_id}\n".encode(),
                                extra, keep_alive)
        if parts[0] == "set-status" and len(parts) == 2:
            set_default_status(int(parts[1]))
            return self.respond(200, b"ok\n", extra, keep_alive)
        if parts[0] == "set-health" and len(parts) == 2:
            set_health_status(int(parts[1]))
            return self.respond(200, b"ok\n", extra, keep_alive)
        if parts[0] == "status" and len(parts) == 2:
            status = int(parts[1])
            return self.respond(status, f"status {status} from {self.server_id}\n".encode(),
                                extra, keep_alive)
        if path == "/echo":
            return self.respond(200, body, extra, keep_alive)
        if parts[0] == "bytes" and len(parts) == 2:
            return self.respond(200, pattern_bytes(int(parts[1])), extra, keep_alive)
        if parts[0] == "chunked" and len(parts) == 2:
            return self.respond_chunked(pattern_bytes(int(parts[1])), extra, keep_alive)
        if parts[0] == "slow" and len(parts) == 2:
            time.sleep(int(parts[1]) / 1000)
        return self.respond(_default_status, f"backend {self.server_id}\n".encode(), extra,
                            keep_alive)

    def head(self, status, extra, keep_alive, body=None):
        lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
        lines += [f"{k}: {v}" for k, v in extra.items()]
        if body is not None:
            lines.append(f"X-Body-Sha256: {hashlib.sha256(body).hexdigest()}")
            lines.append(f"X-Body-Length: {len(body)}")
        if not keep_alive:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n").encode("latin-1")

    def respond(self, status, body, extra, keep_alive):
        no_body = status in (204, 304)
        head = self.head(status, extra, keep_alive, None if no_body else body)
        if not no_body:
            head += f"Content-Length: {len(body)}\r\n".encode()
        self.wfile.write(head + b"\r\n" + (b"" if no_body else body))
        return keep_alive

    def respond_chunked(self, body, extra, keep_alive):
        head = self.head(200, extra, keep_alive, body) + b"Transfer-Encoding: chunked\r\n\r\n"
        self.wfile.write(head)
        sizes = random.Random(len(body) + 1)
        offset = 0
        while offset < len(body):
            n = min(sizes.randint(1, 70000), len(body) - offset)
            self.wfile.write(b"%x\r\n" % n + body[offset:offset + n] + b"\r\n")
            offset += n
        self.wfile.write(b"0\r\n\r\n")
        return keep_alive

    def websocket(self, headers, extra):
        key = headers["sec-websocket-key"].encode()
        accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest()).decode()
        extra = dict(extra, Upgrade="websocket", Connection="Upgrade")
        extra["Sec-WebSocket-Accept"] = accept
        lines = ["HTTP/1.1 101 Switching Protocols"] + [f"{k}: {v}" for k, v in extra.items()]
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        while True:
            first, second = read_exact(self.rfile, 2)
            opcode, masked, length = first & 0x0F, second & 0x80, second & 0x7F
            if length == 126:
                length = int.from_bytes(read_exact(self.rfile, 2), "big")
            elif length == 127:
                length = int.from_bytes(read_exact(self.rfile, 8), "big")
            mask = read_exact(self.rfile, 4) if masked else b"\0\0\0\0"
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(read_exact(self.rfile, length)))
            self.wfile.write(ws_frame(opcode, data))  # Echo; a close frame is echoed too.
            if opcode == 0x8:
                return


def ws_frame(opcode, data, mask=None):
    """One final frame; `mask` (4 bytes) for client-to-server frames."""
    head = bytes([0x80 | opcode])
    bit = 0x80 if mask else 0
    if len(data) < 126:
        head += bytes([bit | len(data)])
    elif len(data) < 65536:
        head += bytes([bit | 126]) + len(data).to_bytes(2, "big")
    else:
        head += bytes([bit | 127]) + len(data).to_bytes(8, "big")
    if mask:
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        head += mask
    return head + data


class LineEchoHandler(socketserver.StreamRequestHandler):
    server_id = "?"

    def handle(self):
        global _conn_counter
        with _print_lock:
            _conn_counter += 1
            conn = _conn_counter
        emit({"event": "conn", "conn": conn})
        lines = 0
        for line in self.rfile:
            lines += 1
            self.wfile.write(self.server_id.encode() + b": " + line)
        emit({"event": "eof", "conn": conn, "lines": lines})
        self.wfile.write(b"bye %s %d\n" % (self.server_id.encode(), lines))


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True  # Restart on the same port right after a kill.
    daemon_threads = True
    request_queue_size = 128


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--id", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--drop", action="store_true")
    parser.add_argument("--tcp-echo", action="store_true")
    parser.add_argument("--tls-cert", help="serve TLS with this PEM certificate (and --tls-key)")
    parser.add_argument("--tls-key")
    args = parser.parse_args()
    handler = LineEchoHandler if args.tcp_echo else HttpHandler
    handler.server_id = args.id
    handler.drop_all = args.drop
    with Server((args.host, args.port), handler) as server:
        if args.tls_cert:
            # The handshake runs in accept(); a failed one is an OSError socketserver skips.
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(args.tls_cert, args.tls_key)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        emit({"event": "listening", "port": server.server_address[1]})
        server.serve_forever()


if __name__ == "__main__":
    main()
