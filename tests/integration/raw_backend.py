#!/usr/bin/env python3
"""A byte-exact HTTP/1.1 backend for the request smuggling tests (standard library only).

Run as a process: `raw_backend.py --id NAME [--port P]`. It binds 127.0.0.1 and prints one JSON
line per event on stdout, flushed; bytes are latin-1 strings, so every byte value survives:
  {"event": "listening", "port": P}
  {"event": "conn", "conn": N}                      a connection sent its first byte or closed
  {"event": "data", "conn": N, "bytes": S}          bytes exactly as one recv() returned them
  {"event": "request", "conn": N, "raw": S}         one request framed (head + body, exact)
  {"event": "unframeable", "conn": N, "why": W}     bytes no request grammar reads: closed
  {"event": "tunnel", "conn": N, "bytes": S}        a request with `Upgrade: tunnel` was answered
                                                    101; S were buffered after it; from then on
                                                    the connection's bytes are only logged
  {"event": "eof", "conn": N}                       the peer closed
  {"event": "sync", "id": X}                        see below

Each request it can frame (Content-Length or chunked, as RFC 9112 reads them) is answered with a
fixed 200 carrying X-Backend: NAME. A connection whose first line is `SYNC X` gets the "sync"
event once every byte that was readable before it has been logged: one thread, one poll loop, and
sync events are written at the end of the loop turn after the one that read the marker.
"""

import argparse
import json
import re
import selectors
import socket
import sys

HEAD_END = b"\r\n\r\n"
CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})(;[^\r\n]*)?\r\n")
UPGRADE = re.compile(rb"\r\nupgrade: *tunnel\r\n", re.IGNORECASE)
SWITCHING = b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: tunnel\r\n\r\n"


def emit(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


class Unframeable(Exception):
    pass


def chunked_body_end(data, start):
    """Index just past a chunked body beginning at `start`, or None if incomplete."""
    pos = start
    while True:
        line_end = data.find(b"\r\n", pos)
        if line_end < 0:
            return None
        match = CHUNK_SIZE.fullmatch(data, pos, line_end + 2)
        if not match:
            raise Unframeable("chunk size line %r" % data[pos:line_end + 2])
        size = int(match.group(1), 16)
        pos = line_end + 2
        if size == 0:
            while True:  # Trailer fields, then the empty line.
                line_end = data.find(b"\r\n", pos)
                if line_end < 0:
                    return None
                empty = line_end == pos
                pos = line_end + 2
                if empty:
                    return pos
        if len(data) < pos + size + 2:
            return None
        if data[pos + size:pos + size + 2] != b"\r\n":
            raise Unframeable("no CRLF after chunk data")
        pos += size + 2


def frame_request(data):
    """Length of the first complete request in `data`, or None if it is not complete yet."""
    head_end = data.find(HEAD_END)
    if head_end < 0:
        return None
    body_start = head_end + 4
    lines = data[:head_end].split(b"\r\n")
    length = None
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.lower()
        if name == b"content-length":
            if length is not None or not value.strip().isdigit():
                raise Unframeable("content-length %r" % value)
            length = int(value.strip())
        elif name == b"transfer-encoding":
            if value.strip().lower() != b"chunked":
                raise Unframeable("transfer-encoding %r" % value)
            chunked = True
    if chunked and length is not None:
        raise Unframeable("both content-length and chunked")
    if chunked:
        return chunked_body_end(data, body_start)
    end = body_start + (length or 0)
    return end if len(data) >= end else None


class Connection:
    def __init__(self, number, sock):
        self.number = number
        self.sock = sock
        self.buffer = b""
        self.announced = False
        self.tunnel = False


def serve(listener, server_id):
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, None)
    answer = (b"HTTP/1.1 200 OK\r\nX-Backend: %s\r\nContent-Length: 3\r\n\r\nok\n"
              % server_id.encode())
    count = 0
    pending_syncs = []
    while True:
        syncs_due, pending_syncs = pending_syncs, []
        for key, _ in selector.select(timeout=0.05 if syncs_due else None):
            if key.data is None:
                while True:  # Accept everything queued, in order.
                    try:
                        sock, _ = listener.accept()
                    except BlockingIOError:
                        break
                    count += 1
                    sock.setblocking(False)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    selector.register(sock, selectors.EVENT_READ, Connection(count, sock))
                continue
            conn = key.data
            try:
                data = conn.sock.recv(65536)
            except ConnectionError:
                data = b""
            if data and not conn.buffer and data.startswith(b"SYNC "):
                pending_syncs.append(data[5:].strip().decode())
                selector.unregister(conn.sock)
                conn.sock.close()
                continue
            if not conn.announced:  # Announced at its first byte or EOF: markers are not.
                conn.announced = True
                emit({"event": "conn", "conn": conn.number})
            if not data:
                emit({"event": "eof", "conn": conn.number})
                selector.unregister(conn.sock)
                conn.sock.close()
                continue
            emit({"event": "data", "conn": conn.number, "bytes": data.decode("latin-1")})
            if conn.tunnel:
                continue
            conn.buffer += data
            try:
                while (end := frame_request(conn.buffer)) is not None:
                    request = conn.buffer[:end]
                    emit({"event": "request", "conn": conn.number,
                          "raw": request.decode("latin-1")})
                    conn.buffer = conn.buffer[end:]
                    if UPGRADE.search(request, 0, request.find(HEAD_END) + 2):
                        # Every byte after this request is the new protocol's: only logged.
                        conn.sock.sendall(SWITCHING)
                        conn.tunnel = True
                        emit({"event": "tunnel", "conn": conn.number,
                              "bytes": conn.buffer.decode("latin-1")})
                        break
                    conn.sock.sendall(answer)
            except (Unframeable, OSError) as e:
                emit({"event": "unframeable", "conn": conn.number, "why": str(e)})
                selector.unregister(conn.sock)
                conn.sock.close()
        # Everything readable when a marker was read has been read in that turn or this one.
        for marker in syncs_due:
            emit({"event": "sync", "id": marker})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--id", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(128)
    listener.setblocking(False)
    emit({"event": "listening", "port": listener.getsockname()[1]})
    serve(listener, args.id)


if __name__ == "__main__":
    main()
