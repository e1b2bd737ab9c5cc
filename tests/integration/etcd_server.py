"""A real etcd for integration tests: temporary data directory, loopback client and peer ports
picked by binding port 0, started and waited for (GET /health, with a deadline), and a few key
operations through etcd's JSON gateway (keys and values base64, as the gateway wants them)."""

import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import urllib.request

from harness import wait_until


def find_etcd():
    path = os.environ.get("FULCRUM_ETCD_BIN") or shutil.which("etcd") or "/usr/bin/etcd"
    if not os.access(path, os.X_OK):
        raise RuntimeError("the etcd server binary was not found (PATH, /usr/bin/etcd or "
                           "$FULCRUM_ETCD_BIN); Debian/Ubuntu: apt-get install etcd-server")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64(text):
    return base64.b64encode(text.encode()).decode()


class EtcdServer:
    def __init__(self):
        self.binary = find_etcd()
        self.dir = tempfile.TemporaryDirectory(prefix="fulcrum-etcd-")
        self.port = free_port()
        self.peer_port = free_port()
        self.process = None
        self.log = None

    @property
    def endpoint(self):
        return "127.0.0.1:%d" % self.port

    def start(self, timeout=20):
        client = "http://%s" % self.endpoint
        peer = "http://127.0.0.1:%d" % self.peer_port
        self.log = open(os.path.join(self.dir.name, "etcd.log"), "ab")
        self.process = subprocess.Popen(
            [self.binary, "--name=t", "--data-dir=%s/data" % self.dir.name,
             "--listen-client-urls=" + client, "--advertise-client-urls=" + client,
             "--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
             "--initial-cluster=t=" + peer],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)

        def healthy():
            if self.process.poll() is not None:
                raise AssertionError("etcd exited: %s" % self.log_text())
            try:
                with urllib.request.urlopen(client + "/health", timeout=1) as r:
                    return b'"health":"true"' in r.read()
            except OSError:
                return False
        wait_until(healthy, timeout, interval=0.05, message="etcd /health")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        if self.log:
            self.log.close()
            self.log = None

    def cleanup(self):
        self.stop()
        self.dir.cleanup()

    def log_text(self):
        with open(os.path.join(self.dir.name, "etcd.log"), "rb") as f:
            return f.read()[-4000:].decode("utf-8", "replace")

    def call(self, path, body):
        request = urllib.request.Request("http://%s%s" % (self.endpoint, path),
                                         data=json.dumps(body).encode(), method="POST")
        with urllib.request.urlopen(request, timeout=5) as r:
            return json.loads(r.read().decode().splitlines()[0])

    def put(self, key, value):
        self.call("/v3/kv/put", {"key": b64(key), "value": b64(value)})

    def delete(self, key):
        self.call("/v3/kv/deleterange", {"key": b64(key)})

    def get_prefix(self, prefix):
        """{key: (value, lease)} for every key under `prefix`."""
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        answer = self.call("/v3/kv/range", {"key": b64(prefix), "range_end": b64(end)})
        return {base64.b64decode(kv["key"]).decode():
                (base64.b64decode(kv.get("value", "")).decode(), int(kv.get("lease", "0")))
                for kv in answer.get("kvs", [])}


def start_etcd_for(test):
    """A started EtcdServer for `test` (a ProxyTestCase): stopped at cleanup, its log shown when
    the test fails."""
    etcd = EtcdServer()
    test.addCleanup(etcd.cleanup)
    etcd.start()
    test._outputs.append(lambda: "--- etcd ---\n" + etcd.log_text())
    return etcd
