"""10 MB bodies both ways, byte-exact (sha256): uploads with Content-Length and chunked to /echo,
downloads with Content-Length (/bytes) and chunked (/chunked)."""

import hashlib
import http.client
import random
import unittest

from harness import ProxyTestCase, cluster, config, http_listener

SIZE = 10 * 1024 * 1024


def payload():
    return random.Random(2024).randbytes(SIZE)


class LargeBodiesTest(ProxyTestCase):
    def setUp(self):
        super().setUp()
        backend = self.start_backend("b1")
        self.proxy = self.start_proxy(config([http_listener("web", "app")],
                                             [cluster("app", [backend])]))
        self.conn = http.client.HTTPConnection("127.0.0.1", self.proxy.port("web"), timeout=30)
        self.addCleanup(self.conn.close)

    def check(self, response, expected_sha):
        body = response.read()
        self.assertEqual(response.status, 200)
        self.assertEqual(len(body), SIZE)
        self.assertEqual(hashlib.sha256(body).hexdigest(), expected_sha)
        # The backend's own hash of what it received or sent.
        self.assertEqual(response.getheader("X-Body-Sha256"), expected_sha)

    def test_content_length_upload(self):
        data = payload()
        self.conn.request("POST", "/echo", body=data)
        self.check(self.conn.getresponse(), hashlib.sha256(data).hexdigest())

    def test_chunked_upload(self):
        data = payload()
        sizes = random.Random(7)

        def pieces():
            offset = 0
            while offset < len(data):
                n = sizes.randint(1, 100000)
                yield data[offset:offset + n]
                offset += n

        self.conn.request("POST", "/echo", body=pieces(), encode_chunked=True,
                          headers={"Transfer-Encoding": "chunked"})
        self.check(self.conn.getresponse(), hashlib.sha256(data).hexdigest())

    def test_content_length_download(self):
        self.conn.request("GET", "/bytes/%d" % SIZE)
        response = self.conn.getresponse()
        self.assertEqual(response.getheader("Content-Length"), str(SIZE))
        self.check(response, hashlib.sha256(random.Random(SIZE).randbytes(SIZE)).hexdigest())

    def test_chunked_download(self):
        self.conn.request("GET", "/chunked/%d" % SIZE)
        response = self.conn.getresponse()
        self.assertEqual(response.getheader("Transfer-Encoding"), "chunked")
        self.check(response, hashlib.sha256(random.Random(SIZE).randbytes(SIZE)).hexdigest())

    def test_both_ways_on_one_connection(self):
        # Keep-alive survives big bodies: upload, then download, on the same connection.
        data = payload()
        self.conn.request("POST", "/echo", body=data)
        self.check(self.conn.getresponse(), hashlib.sha256(data).hexdigest())
        self.conn.request("GET", "/chunked/%d" % SIZE)
        self.check(self.conn.getresponse(),
                   hashlib.sha256(random.Random(SIZE).randbytes(SIZE)).hexdigest())

    def tearDown(self):
        self.stop_proxy(self.proxy)


if __name__ == "__main__":
    unittest.main()
