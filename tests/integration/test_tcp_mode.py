"""TCP mode with a protocol that is not HTTP (a line echo): bytes flow both ways, connections are
balanced, and a client's half-close reaches the server while the reply still comes back."""

import socket
import unittest

from harness import ProxyTestCase, cluster, config, connect


def tcp_listener(name, cluster_name):
    return {"name": name, "listen": "127.0.0.1:0", "mode": "tcp", "cluster": cluster_name}


def read_lines(rfile, count):
    return [rfile.readline() for _ in range(count)]


class TcpModeTest(ProxyTestCase):
    def setUp(self):
        super().setUp()
        self.backends = [self.start_backend(name, tcp_echo=True) for name in ("e1", "e2")]
        self.proxy = self.start_proxy(config([tcp_listener("echo", "lines")],
                                             [cluster("lines", self.backends)]))

    def open(self):
        sock = connect(self.proxy.port("echo"))
        self.addCleanup(sock.close)
        rfile = sock.makefile("rb")
        self.addCleanup(rfile.close)
        return sock, rfile

    def test_line_echo_and_half_close(self):
        sock, rfile = self.open()
        sock.sendall(b"hello\n")
        first = rfile.readline()
        server = first.split(b":")[0]
        self.assertIn(server, (b"e1", b"e2"))
        self.assertEqual(first, server + b": hello\n")
        sock.sendall(b"not http at all\x00\xff\nthird\n")
        self.assertEqual(read_lines(rfile, 2),
                         [server + b": not http at all\x00\xff\n", server + b": third\n"])
        # Half-close: we are done sending, the server still owes us its goodbye.
        sock.shutdown(socket.SHUT_WR)
        self.assertEqual(rfile.readline(), b"bye %s 3\n" % server)
        self.assertEqual(rfile.read(), b"")

    def test_half_close_right_after_sending(self):
        sock, rfile = self.open()
        sock.sendall(b"one\ntwo\n")
        sock.shutdown(socket.SHUT_WR)  # Before reading anything.
        lines = rfile.read().split(b"\n")
        server = lines[0].split(b":")[0]
        self.assertEqual(lines, [server + b": one", server + b": two", b"bye %s 2" % server, b""])

    def test_connections_are_balanced(self):
        seen = set()
        for i in range(6):
            sock, rfile = self.open()
            sock.sendall(b"ping %d\n" % i)
            seen.add(rfile.readline().split(b":")[0])
            rfile.close()
            sock.close()  # Closed, not left to the drain at shutdown.
        self.assertEqual(seen, {b"e1", b"e2"})

    def tearDown(self):
        self.stop_proxy(self.proxy)


if __name__ == "__main__":
    unittest.main()
