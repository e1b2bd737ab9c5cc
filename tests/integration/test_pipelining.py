"""HTTP/1.1 pipelining: requests sent in one write on one connection are answered in order,
even when the first is the slowest and one carries a body."""

import unittest

from harness import ProxyTestCase, cluster, config, connect, http_listener, read_response


class PipeliningTest(ProxyTestCase):
    def setUp(self):
        super().setUp()
        backends = [self.start_backend(name) for name in ("b1", "b2", "b3")]
        self.proxy = self.start_proxy(config([http_listener("web", "app")],
                                             [cluster("app", backends)]))

    def pipeline(self, requests):
        sock = connect(self.proxy.port("web"))
        self.addCleanup(sock.close)
        sock.sendall(b"".join(requests))  # One write: all requests arrive back to back.
        rfile = sock.makefile("rb")
        self.addCleanup(rfile.close)
        return [read_response(rfile) for _ in requests], sock, rfile

    def test_three_gets_in_one_write(self):
        paths = ["/slow/300", "/bytes/5000", "/status/404"]
        responses, sock, rfile = self.pipeline(
            [b"GET %s HTTP/1.1\r\nHost: t\r\nX-Request-Id: %d\r\n\r\n" % (p.encode(), i)
             for i, p in enumerate(paths)])
        self.assertEqual([r.header("X-Path") for r in responses], paths)
        self.assertEqual([r.header("X-Request-Id") for r in responses], ["0", "1", "2"])
        self.assertEqual([r.status for r in responses], [200, 200, 404])
        self.assertEqual(len(responses[1].body), 5000)
        # The connection is still usable afterwards.
        sock.sendall(b"GET /after HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        last = read_response(rfile)
        self.assertEqual(last.header("X-Path"), "/after")
        self.assertEqual(rfile.read(), b"")

    def test_pipelined_post_bodies(self):
        requests = [
            b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nfirst",
            b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nsec\r\n3\r\nond\r\n0\r\n\r\n",
            b"GET /third HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        ]
        responses, sock, rfile = self.pipeline(requests)
        self.assertEqual([r.status for r in responses], [200, 200, 200])
        self.assertEqual(responses[0].body, b"first")
        self.assertEqual(responses[1].body, b"second")
        self.assertEqual(responses[2].header("X-Path"), "/third")
        self.assertEqual(rfile.read(), b"")

    def tearDown(self):
        self.stop_proxy(self.proxy)


if __name__ == "__main__":
    unittest.main()
