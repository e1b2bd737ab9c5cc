"""Malformed requests are refused before reaching a server: 400 (431 for an oversized head, 414
for an oversized target), then the connection is closed cleanly (FIN after the response, no
reset), and the backend never sees the request."""

import unittest

from harness import ProxyTestCase, cluster, config, connect, http_listener, read_until_eof

HEAD = b"POST /x HTTP/1.1\r\nHost: t\r\n"

CASES = {
    "duplicate content-length": HEAD + b"Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
    "content-length with sign": HEAD + b"Content-Length: +5\r\n\r\nhello",
    "content-length overflow": HEAD + b"Content-Length: 184467440737095516160\r\n\r\nhello",
    "transfer-encoding not chunked": HEAD + b"Transfer-Encoding: gzip\r\n\r\nhello",
    "content-length with transfer-encoding":
        HEAD + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "obs-fold": b"GET /x HTTP/1.1\r\nHost: t\r\nX-Folded: a\r\n b\r\n\r\n",
    "bare CR": b"GET /x HTTP/1.1\r\nHost: t\r\nX-Bad: a\rb\r\n\r\n",
    "NUL in header value": b"GET /x HTTP/1.1\r\nHost: t\r\nX-Bad: a\x00b\r\n\r\n",
    "space before colon": b"GET /x HTTP/1.1\r\nHost : t\r\n\r\n",
    "bad chunk size": HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
}


class MalformedRequestTest(ProxyTestCase):
    def setUp(self):
        super().setUp()
        self.backend = self.start_backend("b1")
        self.proxy = self.start_proxy(config(
            [http_listener("web", "app",
                           limits={"max_head_bytes": "16k", "max_uri_bytes": "8k"})],
            [cluster("app", [self.backend])]))

    def refused(self, request, status):
        sock = connect(self.proxy.port("web"))
        self.addCleanup(sock.close)
        sock.sendall(request)
        data = read_until_eof(sock)  # Fails on a reset or on a connection left open.
        status_line = data.split(b"\r\n", 1)[0]
        self.assertEqual(status_line[:12], b"HTTP/1.1 %d" % status, data)
        self.assertIn(b"\r\nConnection: close\r\n", data)

    def test_malformed_requests_get_400(self):
        for name, request in CASES.items():
            with self.subTest(name):
                self.refused(request, 400)

    def test_bad_chunk_size_after_a_good_chunk(self):
        # The head and a valid chunk first; the broken chunk size follows in a later write.
        sock = connect(self.proxy.port("web"))
        self.addCleanup(sock.close)
        sock.sendall(HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        self.backend.output.wait_for(lambda _: self.backend.events("conn"), 5,
                                     "the proxy connecting to the backend")
        sock.sendall(b"-1\r\nxx\r\n0\r\n\r\n")
        data = read_until_eof(sock)
        self.assertEqual(data.split(b"\r\n", 1)[0][:12], b"HTTP/1.1 400", data)

    def test_oversized_head_gets_431(self):
        headers = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"v" * 200) for i in range(100))
        self.refused(b"GET / HTTP/1.1\r\nHost: t\r\n" + headers + b"\r\n", 431)

    def test_oversized_uri_gets_414(self):
        self.refused(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414)

    def test_heads_within_the_limits_are_served(self):
        # Just under max_head_bytes (16k) and max_uri_bytes (8k): the limits are the
        # configured ones, not something smaller.
        filler = b"".join(b"X-Filler-%02d: %s\r\n" % (i, b"v" * 200) for i in range(70))
        uri = b"/" + b"u" * 8000
        for request in (b"GET /big-head HTTP/1.1\r\nHost: t\r\n" + filler,
                        b"GET " + uri + b" HTTP/1.1\r\nHost: t\r\n"):
            with self.subTest(size=len(request)):
                self.assertLess(len(request), 16384)
                sock = connect(self.proxy.port("web"))
                self.addCleanup(sock.close)
                sock.sendall(request + b"Connection: close\r\n\r\n")
                data = read_until_eof(sock)
                self.assertTrue(data.startswith(b"HTTP/1.1 200 "), data[:300])

    def test_backend_never_sees_refused_requests(self):
        for request in CASES.values():
            self.refused(request, 400)
        self.backend.sync()
        seen = [r for r in self.backend.requests() if not r["id"] or "sync" not in r["id"]]
        self.assertEqual(seen, [])

    def tearDown(self):
        self.stop_proxy(self.proxy)


if __name__ == "__main__":
    unittest.main()
