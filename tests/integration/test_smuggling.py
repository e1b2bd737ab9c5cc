"""Request smuggling: for every classic desync vector, either fulcrum refuses the request (4xx,
then closes) and the server behind it receives not one byte, or the server receives exactly the
well-formed requests fulcrum framed, byte for byte, and nothing else. The server is
raw_backend.py, which logs every byte it gets per connection and frames requests itself, so a
request hidden inside another one's body would show up as an extra request or extra bytes.

One test per vector; the table in docs/reliability.md ("Request smuggling") lists them."""

import io
import json
import os
import socket
import subprocess
import sys
import unittest
import uuid

from harness import (HERE, OutputCollector, ProxyTestCase, cluster, config, connect,
                     http_listener, read_response)

CLIENT_IP = "127.0.0.1"


class RawBackend:
    """raw_backend.py as a subprocess; its events are kept for byte-exact assertions."""

    def __init__(self, backend_id):
        self.id = backend_id
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "raw_backend.py"), "--id", backend_id],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.output = OutputCollector(self.process.stdout, "raw backend " + backend_id)
        listening = self.output.wait_for(
            lambda lines: [e for e in self._events(lines) if e["event"] == "listening"], 10,
            "listening")
        self.port = listening[0]["port"]
        self.address = "127.0.0.1:%d" % self.port
        self.first_event = 0  # Events before this index belong to earlier tests.

    @staticmethod
    def _events(lines):
        return [json.loads(line) for _, line in lines if line.startswith("{")]

    def events(self, kind):
        return [e for e in self._events(self.output.lines()[self.first_event:])
                if e["event"] == kind]

    def forget(self):
        """Starts a new test: what was received so far is no longer reported."""
        self.sync()
        self.first_event = len(self.output.lines())

    def sync(self, timeout=5):
        """Returns once every byte that reached this backend before now has been logged."""
        marker = str(uuid.uuid4())
        with connect(self.port, timeout) as sock:
            sock.sendall(b"SYNC %s\n" % marker.encode())
        self.output.wait_for(
            lambda lines: any(e.get("id") == marker for e in self._events(lines)), timeout,
            "sync marker")

    def received(self):
        """Bytes received per connection, in connection order."""
        per_conn = {}
        for event in self.events("data"):
            per_conn[event["conn"]] = (per_conn.get(event["conn"], b"") +
                                       event["bytes"].encode("latin-1"))
        return [per_conn[n] for n in sorted(per_conn)]

    def requests(self):
        return [e["raw"].encode("latin-1") for e in self.events("request")]

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        self.output.join()


def forwarded(request_line, fields=b"Host: t\r\n", body=b"", host=b"t"):
    """The exact request fulcrum sends upstream: the client's line and fields (framing fields
    written canonically), then its own forwarding fields."""
    return (request_line + b"\r\n" + fields + b"X-Forwarded-For: " + CLIENT_IP.encode() +
            b"\r\nX-Forwarded-Proto: http\r\nForwarded: for=" + CLIENT_IP.encode() +
            b";proto=http;host=" + host + b"\r\nConnection: keep-alive\r\n\r\n" + body)


def responses_in(data):
    """The responses in `data` (a whole connection's worth), parsed."""
    rfile = io.BufferedReader(io.BytesIO(data))
    out = []
    while (response := read_response(rfile)) is not None:
        out.append(response)
    return out


POST = b"POST /x HTTP/1.1\r\nHost: t\r\n"
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n"

# name -> (bytes the client sends, status fulcrum must answer with before closing)
REFUSED = {
    "cl_te": (POST + b"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG", 400),
    "te_cl": (POST + b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
              b"8\r\nSMUGGLED\r\n0\r\n\r\n", 400),
    "te_space_before_colon": (POST + b"Transfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n"
                              b"0\r\n\r\n" + SMUGGLED, 400),
    "te_tab_before_colon": (POST + b"Transfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n", 400),
    "te_line_starting_with_space": (POST + b"Content-Length: 4\r\n Transfer-Encoding: chunked"
                                    b"\r\n\r\n0\r\n\r\n" + SMUGGLED, 400),
    "te_case_with_content_length": (POST + b"Transfer-Encoding: Chunked\r\nContent-Length: 4"
                                    b"\r\n\r\n0\r\n\r\n" + SMUGGLED, 400),
    "te_chunked_then_identity_fields": (POST + b"Transfer-Encoding: chunked\r\n"
                                        b"Transfer-Encoding: identity\r\n\r\n0\r\n\r\n", 400),
    "te_chunked_identity_list": (POST + b"Transfer-Encoding: chunked, identity\r\n\r\n"
                                 b"0\r\n\r\n", 400),
    # A coding fulcrum does not decode before chunked: 501 (RFC 9112 section 6.1).
    "te_identity_chunked_list": (POST + b"Transfer-Encoding: identity, chunked\r\n\r\n"
                                 b"0\r\n\r\n", 501),
    "te_vertical_tab": (POST + b"Transfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n", 400),
    "te_form_feed": (POST + b"Transfer-Encoding: chunked\x0c\r\n\r\n0\r\n\r\n", 400),
    "te_not_chunked": (POST + b"Transfer-Encoding: xchunked\r\nContent-Length: 4\r\n\r\n"
                       b"0\r\n\r\n", 400),
    "duplicate_content_length": (POST + b"Content-Length: 5\r\nContent-Length: 40\r\n\r\n"
                                 b"hello" + SMUGGLED, 400),
    "duplicate_equal_content_length": (POST + b"Content-Length: 5\r\nContent-Length: 5\r\n\r\n"
                                       b"hello", 400),
    "content_length_plus": (POST + b"Content-Length: +5\r\n\r\nhello", 400),
    "content_length_minus": (POST + b"Content-Length: -5\r\n\r\nhello", 400),
    "content_length_list": (POST + b"Content-Length: 5, 5\r\n\r\nhello", 400),
    "chunk_size_overflow": (POST + b"Transfer-Encoding: chunked\r\n\r\n"
                            b"10000000000000005\r\nhello\r\n0\r\n\r\n", 400),
    "chunk_size_leading_zeros_overflow": (POST + b"Transfer-Encoding: chunked\r\n\r\n"
                                          b"00000000000000000005\r\nhello\r\n0\r\n\r\n", 400),
    "chunk_extension_without_name": (POST + b"Transfer-Encoding: chunked\r\n\r\n"
                                     b"5;=x\r\nhello\r\n0\r\n\r\n", 400),
    "chunk_extension_unterminated_quote": (POST + b"Transfer-Encoding: chunked\r\n\r\n"
                                           b"5;a=\"x\r\nhello\r\n0\r\n\r\n", 400),
    "chunk_size_trailing_space": (POST + b"Transfer-Encoding: chunked\r\n\r\n"
                                  b"5 \r\nhello\r\n0\r\n\r\n", 400),
    "chunk_size_bare_lf": (POST + b"Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
                           400),
    "bare_lf_line_endings": (b"GET /x HTTP/1.1\nHost: t\n\n", 400),
    "bare_lf_hides_a_field": (b"GET /x HTTP/1.1\r\nHost: t\r\nX-A: 1\nContent-Length: 5\r\n\r\n"
                              b"hello", 400),
    "obs_fold": (b"GET /x HTTP/1.1\r\nHost: t\r\nX-Folded: a\r\n b\r\n\r\n", 400),
    "nul_in_field_value": (b"GET /x HTTP/1.1\r\nHost: t\r\nX-Bad: a\x00b\r\n\r\n", 400),
    "nul_in_field_name": (b"GET /x HTTP/1.1\r\nHost: t\r\nX-B\x00ad: a\r\n\r\n", 400),
    "http10_chunked": (b"POST /x HTTP/1.0\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                       b"0\r\n\r\n", 400),
    "space_before_colon": (b"GET /x HTTP/1.1\r\nHost : t\r\n\r\n", 400),
    "content_length_space_before_colon": (POST + b"Content-Length : 5\r\n\r\nhello", 400),
    "space_inside_field_name": (POST + b"Content Length: 5\r\n\r\nhello", 400),
}

# name -> (bytes the client sends, the exact requests the server must receive)
FORWARDED = {
    # Case-insensitive coding, written back canonically.
    "te_chunked_upper_case": (
        POST + b"Transfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        [forwarded(b"POST /x HTTP/1.1", b"Host: t\r\nTransfer-Encoding: chunked\r\n",
                   b"5\r\nhello\r\n0\r\n\r\n")]),
    # Leading and trailing whitespace (SP, HTAB) around a value is OWS, not part of it.
    "te_leading_space": (
        POST + b"Transfer-Encoding:   chunked \r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        [forwarded(b"POST /x HTTP/1.1", b"Host: t\r\nTransfer-Encoding: chunked\r\n",
                   b"5\r\nhello\r\n0\r\n\r\n")]),
    "te_tab": (
        POST + b"Transfer-Encoding:\tchunked\t\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        [forwarded(b"POST /x HTTP/1.1", b"Host: t\r\nTransfer-Encoding: chunked\r\n",
                   b"5\r\nhello\r\n0\r\n\r\n")]),
    # Well-formed extensions and trailers are forwarded verbatim, as fulcrum validated them.
    "chunk_extensions_forwarded": (
        POST + b"Transfer-Encoding: chunked\r\n\r\n"
        b"5;name=value;q=\"a b\"\r\nhello\r\n0;last\r\nX-Trailer: t\r\n\r\n",
        [forwarded(b"POST /x HTTP/1.1", b"Host: t\r\nTransfer-Encoding: chunked\r\n",
                   b"5;name=value;q=\"a b\"\r\nhello\r\n0;last\r\nX-Trailer: t\r\n\r\n")]),
    # The largest size fulcrum reads (16 hex digits) is framed the same way upstream: the head
    # and the bytes sent so far, nothing after them.
    # Content-Length on a GET is a body: the bytes after it are that body, not a request.
    "get_with_body_hiding_a_request": (
        b"GET /x HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(SMUGGLED) + SMUGGLED,
        [forwarded(b"GET /x HTTP/1.1", b"Host: t\r\nContent-Length: %d\r\n" % len(SMUGGLED),
                   SMUGGLED)]),
    # ... and a request after that body is the client's next request, framed by fulcrum too.
    "get_with_body_then_pipelined": (
        b"GET /x HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello" + SMUGGLED,
        [forwarded(b"GET /x HTTP/1.1", b"Host: t\r\nContent-Length: 5\r\n", b"hello"),
         forwarded(b"GET /smuggled HTTP/1.1")]),
    # Nothing after Connection: close is read as a request.
    "pipelined_after_connection_close": (
        b"GET /first HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" + SMUGGLED,
        [forwarded(b"GET /first HTTP/1.1")]),
    "pipelined_after_http10": (
        b"GET /first HTTP/1.0\r\nHost: t\r\n\r\n" + SMUGGLED,
        [forwarded(b"GET /first HTTP/1.0")]),
    # A client cannot strip the framing field it sends by naming it in Connection.
    "connection_names_content_length": (
        POST + b"Connection: content-length\r\nContent-Length: 5\r\n\r\nhello",
        [forwarded(b"POST /x HTTP/1.1", b"Host: t\r\nContent-Length: 5\r\n", b"hello")]),
    # CGI-style servers read "Transfer_Encoding" as Transfer-Encoding: a second framing that
    # fulcrum did not frame by. Such aliases of the fields fulcrum controls are dropped.
    "transfer_encoding_with_underscore": (
        POST + b"Content-Length: 5\r\nTransfer_Encoding: chunked\r\n\r\nhello",
        [forwarded(b"POST /x HTTP/1.1", b"Host: t\r\nContent-Length: 5\r\n", b"hello")]),
    # Framing values are written canonically: "007" cannot be read as octal or as a list.
    "content_length_leading_zeros": (
        POST + b"Content-Length: 005\r\n\r\nhello",
        [forwarded(b"POST /x HTTP/1.1", b"Host: t\r\nContent-Length: 5\r\n", b"hello")]),
}


class SmugglingTest(ProxyTestCase):
    @classmethod
    def setUpClass(cls):
        # One backend for all tests (a Python start costs about a second on a loaded machine);
        # each test only looks at what reached it after its own start.
        cls.shared_backend = RawBackend("raw")

    @classmethod
    def tearDownClass(cls):
        cls.shared_backend.stop()

    def setUp(self):
        super().setUp()
        self.backend = self.shared_backend
        self.backend.forget()
        self._outputs.append(lambda: "--- raw backend raw ---\n%s" % self.backend.output.text())
        self.proxy = self.start_proxy(config([http_listener("web", "app")],
                                             [cluster("app", [self.backend.address])]))

    def tearDown(self):
        self.stop_proxy(self.proxy)

    def start_raw_backend(self, backend_id):
        backend = RawBackend(backend_id)
        self.addCleanup(backend.stop)
        self._outputs.append(lambda: "--- raw backend %s ---\n%s" % (backend.id,
                                                                     backend.output.text()))
        return backend

    def exchange(self, payload, port=None):
        """Sends `payload` in one write, half-closes, returns everything until fulcrum closes."""
        sock = connect(port or self.proxy.port("web"))
        self.addCleanup(sock.close)
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(10)
        data = b""
        while chunk := sock.recv(65536):  # A timeout or reset fails the test.
            data += chunk
        return data

    def assert_refused(self, payload, status):
        data = self.exchange(payload)
        responses = responses_in(data)
        self.assertEqual([r.status for r in responses], [status], data)
        self.assertEqual(responses[0].header("connection"), "close")
        self.backend.sync()
        self.assertEqual(self.backend.received(), [], "the backend must receive nothing")

    def assert_forwarded(self, payload, expected, backend=None, port=None):
        backend = backend or self.backend
        data = self.exchange(payload, port)
        responses = responses_in(data)
        self.assertEqual([(r.status, r.header("x-backend")) for r in responses],
                         [(200, backend.id)] * len(expected), data)
        backend.sync()
        self.assertEqual(backend.requests(), expected)
        # Every byte that reached the backend belongs to one of those requests.
        self.assertEqual(b"".join(backend.received()), b"".join(expected))
        self.assertEqual(backend.events("unframeable"), [])

    def test_absolute_form_authority_wins_over_host(self):
        # Routing and the forwarded Host agree on the target's authority (RFC 9112 3.2.2): the
        # server behind "a.example" never sees "b.example" as the Host.
        backend_b = self.start_raw_backend("b")
        listener = http_listener("web", None, routes=[
            {"match": {"host": "a.example"}, "cluster": "a"},
            {"match": {"host": "b.example"}, "cluster": "b"}])
        del listener["cluster"]
        proxy = self.start_proxy(config(
            [listener], [cluster("a", [self.backend.address]), cluster("b", [backend_b.address])]))
        self.assert_forwarded(
            b"GET http://a.example/x HTTP/1.1\r\nHost: b.example\r\n\r\n",
            [forwarded(b"GET http://a.example/x HTTP/1.1", b"Host: a.example\r\n",
                       host=b"a.example")], port=proxy.port("web"))
        backend_b.sync()
        self.assertEqual(backend_b.received(), [])
        self.stop_proxy(proxy)

    def split_body_then_pipelined(self, head, first, rest, expected):
        """The body's end and the next request arrive in a later write, after fulcrum has
        started relaying the body: the bytes past the body must stay the next request."""
        sock = connect(self.proxy.port("web"))
        self.addCleanup(sock.close)
        sock.sendall(head + first)
        self.backend.output.wait_for(lambda _: self.backend.events("data"), 5,
                                     "the head at the backend")
        sock.sendall(rest + SMUGGLED)
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(10)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        self.assertEqual([r.status for r in responses_in(data)], [200, 200], data)
        self.backend.sync()
        self.assertEqual(self.backend.requests(), [expected, forwarded(b"GET /smuggled HTTP/1.1")])
        self.assertEqual(b"".join(self.backend.received()),
                         expected + forwarded(b"GET /smuggled HTTP/1.1"))

    def test_content_length_body_split_then_pipelined(self):
        self.split_body_then_pipelined(
            POST + b"Content-Length: 5\r\n\r\n", b"hel", b"lo",
            forwarded(b"POST /x HTTP/1.1", b"Host: t\r\nContent-Length: 5\r\n", b"hello"))

    def test_chunked_body_split_then_pipelined(self):
        self.split_body_then_pipelined(
            POST + b"Transfer-Encoding: chunked\r\n\r\n", b"5\r\nhel", b"lo\r\n0\r\n\r\n",
            forwarded(b"POST /x HTTP/1.1", b"Host: t\r\nTransfer-Encoding: chunked\r\n",
                      b"5\r\nhello\r\n0\r\n\r\n"))

    def test_upgrade_request_body_is_not_tunnel_data(self):
        # The body belongs to the upgrade request; only the bytes after it are the new
        # protocol's. They must reach the server once each, in order.
        sock = connect(self.proxy.port("web"))
        self.addCleanup(sock.close)
        sock.sendall(b"GET /up HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: tunnel\r\n"
                     b"Content-Length: 5\r\n\r\nhello" + b"TUNNEL-BYTES")
        sock.settimeout(5)
        self.assertTrue(sock.recv(65536).startswith(b"HTTP/1.1 101 "))
        expected = forwarded(b"GET /up HTTP/1.1", b"Host: t\r\nContent-Length: 5\r\n",
                             b"hello").replace(b"Connection: keep-alive\r\n",
                                               b"Connection: upgrade\r\nUpgrade: tunnel\r\n")
        expected += b"TUNNEL-BYTES"
        sock.sendall(b"-MORE")
        expected += b"-MORE"
        self.backend.output.wait_for(
            lambda _: len(b"".join(self.backend.received())) >= len(expected), 5,
            "the tunnel bytes")
        self.backend.sync()
        self.assertEqual(b"".join(self.backend.received()), expected)
        self.assertEqual(len(self.backend.requests()), 1)

    def test_huge_chunk_size_is_framed_identically(self):
        # 16 hex digits (2^64 - 1) is the largest size fulcrum reads. It forwards the head and
        # the chunk bytes it has; the backend frames them the same way: no complete request,
        # and no byte it could read as a second one.
        sock = connect(self.proxy.port("web"))
        self.addCleanup(sock.close)
        sock.sendall(POST + b"Transfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n" + SMUGGLED)
        expected = forwarded(b"POST /x HTTP/1.1", b"Host: t\r\nTransfer-Encoding: chunked\r\n",
                             b"ffffffffffffffff\r\n" + SMUGGLED)
        self.backend.output.wait_for(
            lambda _: b"".join(self.backend.received()) == expected, 5, "the forwarded bytes")
        sock.close()
        self.backend.sync()
        self.assertEqual(self.backend.requests(), [])
        self.assertEqual(b"".join(self.backend.received()), expected)


def _refused_test(payload, status):
    return lambda self: self.assert_refused(payload, status)


def _forwarded_test(payload, expected):
    return lambda self: self.assert_forwarded(payload, expected)


for _name, (_payload, _status) in REFUSED.items():
    setattr(SmugglingTest, "test_refused_" + _name, _refused_test(_payload, _status))
for _name, (_payload, _expected) in FORWARDED.items():
    setattr(SmugglingTest, "test_forwarded_" + _name, _forwarded_test(_payload, _expected))


if __name__ == "__main__":
    unittest.main()
