"""Helpers for the admin API integration tests (test_admin_*.py, test_status_page.py): find the
admin port in fulcrum's log, call the API, and keep a steady keep-alive load on the proxy while
a test changes servers, counting every failed request."""

import http.client
import json
import re
import threading
import time

ADMIN_LINE = re.compile(r"admin API on http://(\S+):(\d+)/")


def admin_port(proxy, timeout=10):
    """The admin listener's port, from the line fulcrum logs when it starts serving."""
    def find(lines):
        for _, line in lines:
            match = ADMIN_LINE.search(line)
            if match:
                return int(match.group(2))
        return None
    return proxy.stdout.wait_for(find, timeout, "the admin API line")


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "Reply(%d, %r)" % (self.status, self.body[:300])


class AdminClient:
    def __init__(self, port, token=None, host="127.0.0.1"):
        self.port = port
        self.token = token
        self.host = host

    def call(self, method, path, body=None, token=None, timeout=30):
        """One request on a fresh connection; `token` overrides the client's ("" sends none)."""
        token = self.token if token is None else token
        headers = {"Connection": "close"}
        if token:
            headers["Authorization"] = "Bearer " + token
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            headers["Content-Type"] = "application/json"
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()},
                         response.read().decode("utf-8", "replace"))
        finally:
            conn.close()

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def server(self, cluster, address):
        """The server's JSON, or None once it is gone."""
        reply = self.get("/api/v1/clusters/%s/servers/%s" % (cluster, address))
        return reply.json() if reply.status == 200 else None


class Load:
    """`threads` clients sending GET / over keep-alive connections to the proxy until stopped.
    Any non-200 answer or connection error is a failure."""

    def __init__(self, port, threads=4, path="/"):
        self.port = port
        self.path = path
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.ok = 0
        self.failures = []
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def start(self):
        for thread in self._threads:
            thread.start()
        return self

    def connect(self):
        """A new connection to the proxy; subclasses make other kinds (TLS)."""
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def headers(self):
        return {}

    def _run(self):
        conn = None
        while not self._stop.is_set():
            try:
                if conn is None:
                    conn = self.connect()
                conn.request("GET", self.path, headers=self.headers())
                response = conn.getresponse()
                response.read()
                with self._lock:
                    if response.status == 200:
                        self.ok += 1
                    else:
                        self.failures.append("status %d" % response.status)
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                with self._lock:
                    self.failures.append("%s: %s" % (type(e).__name__, e))
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    def count(self):
        with self._lock:
            return self.ok

    def wait_for_more(self, n, timeout=20):
        """Returns once `n` more requests have succeeded than when called."""
        target = self.count() + n
        deadline = time.monotonic() + timeout
        while self.count() < target:
            if time.monotonic() > deadline:
                raise AssertionError("load stalled: %d of %d more requests in %ss (failures: %s)"
                                     % (self.count() - target + n, n, timeout,
                                        self.failures[:5]))
            time.sleep(0.01)

    def stop(self):
        self._stop.set()
        for thread in self._threads:
            thread.join(15)
        return self.ok, list(self.failures)
