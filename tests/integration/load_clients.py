#!/usr/bin/env python3
"""Many client connections from one process, for the overload tests (standard library only).

A process holds at most its RLIMIT_NOFILE descriptors, so a test that needs more connections
than that runs several of these, each from its own loopback address. Run as
`load_clients.py --port P [--source 127.0.0.N]`; it raises its own soft RLIMIT_NOFILE to the hard
limit, then reads one command per line on stdin and answers each with one JSON line on stdout:

  open N HEAD      open N connections (at most 500 connects in flight); each sends HEAD (a
                   Python bytes literal, e.g. b'GET / HTTP/1.1\\r\\n') once connected.
                   -> {"open": n, "failed": k, "seconds": s}
  finish EVERY TAIL  on every EVERY-th open connection send TAIL (a bytes literal) and read one
                   response, at most 50 at a time.
                   -> {"answered": n, "statuses": {"200": n, ...}, "closed": k, "seconds": s}
  trickle SECONDS PERIOD  for SECONDS, send one more byte ("X") on every open connection, each
                   connection once per PERIOD seconds, spread evenly.
                   -> {"trickled": bytes sent, "closed": connections the peer closed}
  count            -> {"open": connections not closed by the peer}, checked with a zero-byte
                   peek on every one.
  close            close everything, answer {"closed": n} and exit.
"""

import argparse
import ast
import errno
import json
import resource
import selectors
import socket
import sys
import time

CONNECTS_IN_FLIGHT = 500
# Local ports chosen here, below the ephemeral range: Linux's connect() looks for a free port in
# the even half of that range first, and once some 14,000 are taken by connections to one
# destination every further connect() scans them all. Ports bound explicitly inside the range
# would also be skipped by everyone else's connect() (other tests, fulcrum's own upstreams).
FIRST_PORT, LAST_PORT = 1025, 32767
REQUESTS_IN_FLIGHT = 50


def reply(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


class Clients:
    def __init__(self, port, source):
        self.port = port
        self.source = source
        self.socks = []
        self.next_port = FIRST_PORT

    def bind(self, sock):
        """Binds to the next free port of our address; all taken: the kernel's choice."""
        while self.next_port <= LAST_PORT:
            port = self.next_port
            self.next_port += 1
            try:
                sock.bind((self.source, port))
                return
            except OSError as e:
                if e.errno != errno.EADDRINUSE:
                    raise
        sock.bind((self.source, 0))

    def open(self, count, head):
        start = time.monotonic()
        selector = selectors.DefaultSelector()
        failed = 0
        started = 0
        in_flight = 0
        while started < count or in_flight:
            while started < count and in_flight < CONNECTS_IN_FLIGHT:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.bind(sock)
                code = sock.connect_ex(("127.0.0.1", self.port))
                started += 1
                if code not in (0, errno.EINPROGRESS):
                    sock.close()
                    failed += 1
                    continue
                selector.register(sock, selectors.EVENT_WRITE)
                in_flight += 1
            for key, _ in selector.select(timeout=30):
                sock = key.fileobj
                selector.unregister(sock)
                in_flight -= 1
                if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                    sock.close()
                    failed += 1
                    continue
                try:
                    sock.send(head)  # Small: fits the empty send buffer in one call.
                except OSError:
                    sock.close()
                    failed += 1
                    continue
                self.socks.append(sock)
        selector.close()
        return {"open": len(self.socks), "failed": failed,
                "seconds": round(time.monotonic() - start, 3)}

    def finish(self, every, tail):
        start = time.monotonic()
        chosen = self.socks[::every]
        statuses = {}
        closed = 0
        answered = 0
        for batch_start in range(0, len(chosen), REQUESTS_IN_FLIGHT):
            batch = chosen[batch_start:batch_start + REQUESTS_IN_FLIGHT]
            selector = selectors.DefaultSelector()
            buffers = {}
            for sock in batch:
                try:
                    sock.send(tail)
                except OSError:
                    closed += 1
                    continue
                buffers[sock] = b""
                selector.register(sock, selectors.EVENT_READ)
            deadline = time.monotonic() + 30
            while buffers and time.monotonic() < deadline:
                for key, _ in selector.select(timeout=1):
                    sock = key.fileobj
                    try:
                        data = sock.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        closed += 1
                        selector.unregister(sock)
                        del buffers[sock]
                        continue
                    buffers[sock] += data
                    status = complete_response(buffers[sock])
                    if status is not None:
                        statuses[status] = statuses.get(status, 0) + 1
                        answered += 1
                        selector.unregister(sock)
                        del buffers[sock]
            selector.close()
        return {"answered": answered, "statuses": statuses, "closed": closed,
                "seconds": round(time.monotonic() - start, 3)}

    def trickle(self, seconds, period):
        sent = 0
        closed = 0
        end = time.monotonic() + seconds
        while time.monotonic() < end and self.socks:
            round_start = time.monotonic()
            gap = period / len(self.socks)
            alive = []
            for index, sock in enumerate(self.socks):
                try:
                    sock.send(b"X")
                    sent += 1
                    alive.append(sock)
                except OSError:
                    closed += 1
                    sock.close()
                # Spread the sends over the period instead of a burst per round.
                ahead = round_start + (index + 1) * gap - time.monotonic()
                if ahead > 0.002:
                    time.sleep(ahead)
                if time.monotonic() >= end:
                    alive.extend(self.socks[index + 1:])
                    break
            self.socks = alive
        return {"trickled": sent, "closed": closed}

    def count(self):
        alive = []
        for sock in self.socks:
            try:
                if sock.recv(1, socket.MSG_PEEK) == b"":
                    sock.close()
                    continue
            except BlockingIOError:
                pass  # Open and silent.
            except OSError:
                sock.close()
                continue
            alive.append(sock)
        self.socks = alive
        return {"open": len(alive)}

    def close(self):
        for sock in self.socks:
            sock.close()
        return {"closed": len(self.socks)}


def complete_response(data):
    """The status of the first response in `data` once all of it is there, else None."""
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    lines = data[:head_end].decode("latin-1").split("\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if len(data) < head_end + 4 + length:
        return None
    return lines[0].split(" ")[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--source", default="127.0.0.1",
                        help="local address; processes with different ones can use the same "
                        "local ports")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    clients = Clients(args.port, args.source)
    reply({"ready": True, "fd_limit": hard})
    for line in sys.stdin:
        words = line.split(" ", 2)
        command = words[0].strip()
        if command == "open":
            reply(clients.open(int(words[1]), ast.literal_eval(words[2].strip())))
        elif command == "finish":
            reply(clients.finish(int(words[1]), ast.literal_eval(words[2].strip())))
        elif command == "trickle":
            reply(clients.trickle(float(words[1]), float(words[2])))
        elif command == "count":
            reply(clients.count())
        elif command == "close":
            reply(clients.close())
            return


if __name__ == "__main__":
    main()
