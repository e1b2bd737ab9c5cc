"""A real etcd for integration tests: temporary data directory, loopback client and peer ports
picked by binding port 0, started and waited for (GET /health, with a deadline), and a few key
operations through etcd's JSON gateway (keys and values base64, as the gateway wants them).

With `tls` ({"ca", "cert", "key", "client_cert", "client_key"} paths) the client URL is
https://, and `client_cert_auth` makes etcd require a client certificate signed by that CA:
client_cert, which the helpers here present (without a Common Name: etcd's gateway refuses
client certificates that have one). enable_auth() adds the user root and turns authentication on; the
helpers then authenticate as root for each call. `auth_token_ttl` (seconds) bounds how long an
unused simple token lives."""

import base64
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import urllib.error
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
    def __init__(self, tls=None, client_cert_auth=False, auth_token_ttl=None):
        self.binary = find_etcd()
        self.tls = tls
        self.client_cert_auth = client_cert_auth
        self.auth_token_ttl = auth_token_ttl
        self.root_password = None  # Set by enable_auth().
        self.dir = tempfile.TemporaryDirectory(prefix="fulcrum-etcd-")
        self.port = free_port()
        self.peer_port = free_port()
        self.process = None
        self.log = None

    @property
    def endpoint(self):
        return "127.0.0.1:%d" % self.port

    @property
    def url(self):
        return "%s://%s" % ("https" if self.tls else "http", self.endpoint)

    def ssl_context(self):
        """For Python's clients: etcd's CA, and the client certificate when etcd asks for one."""
        if not self.tls:
            return None
        context = ssl.create_default_context(cafile=self.tls["ca"])
        context.load_cert_chain(self.tls["client_cert"], self.tls["client_key"])
        return context

    def start(self, timeout=20):
        client = self.url
        peer = "http://127.0.0.1:%d" % self.peer_port
        self.log = open(os.path.join(self.dir.name, "etcd.log"), "ab")
        flags = []
        if self.tls:
            flags += ["--cert-file=" + self.tls["cert"], "--key-file=" + self.tls["key"],
                      "--trusted-ca-file=" + self.tls["ca"]]
            if self.client_cert_auth:
                flags.append("--client-cert-auth")
        if self.auth_token_ttl:
            flags += ["--auth-token=simple", "--auth-token-ttl=%d" % self.auth_token_ttl]
        self.process = subprocess.Popen(
            [self.binary, "--name=t", "--data-dir=%s/data" % self.dir.name,
             "--listen-client-urls=" + client, "--advertise-client-urls=" + client,
             "--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
             "--initial-cluster=t=" + peer] + flags,
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)

        def healthy():
            if self.process.poll() is not None:
                raise AssertionError("etcd exited: %s" % self.log_text())
            try:
                with urllib.request.urlopen(client + "/health", timeout=1,
                                            context=self.ssl_context()) as r:
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
        self._last_log = self.log_text()  # A failed test shows it after the cleanups.
        self.dir.cleanup()

    def log_text(self):
        if getattr(self, "_last_log", None) is not None:
            return self._last_log
        with open(os.path.join(self.dir.name, "etcd.log"), "rb") as f:
            return f.read()[-4000:].decode("utf-8", "replace")

    def etcdctl(self, *args, user=None):
        """Runs etcdctl against this etcd (TLS flags as needed); returns its stdout."""
        command = ["etcdctl", "--endpoints=" + self.url]
        if self.tls:
            command += ["--cacert=" + self.tls["ca"], "--cert=" + self.tls["client_cert"],
                        "--key=" + self.tls["client_key"]]
        if user:
            command.append("--user=" + user)
        result = subprocess.run(command + list(args), capture_output=True, text=True, timeout=10,
                                env=dict(os.environ, ETCDCTL_API="3"))
        if result.returncode != 0:
            raise AssertionError("etcdctl %s: %s" % (" ".join(args), result.stderr))
        return result.stdout

    def enable_auth(self, password):
        """Adds the user root with `password` and turns authentication on."""
        self.etcdctl("user", "add", "root:" + password)
        self.etcdctl("auth", "enable")
        self.root_password = password

    def raw_call(self, path, body, token=None):
        """(HTTP status, first JSON message of the answer): errors are answers too."""
        headers = {"Authorization": token} if token else {}
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                         method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=5, context=self.ssl_context()) as r:
                return r.status, json.loads(r.read().decode().splitlines()[0])
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            try:
                return e.code, json.loads(text or "{}")
            except ValueError:
                return e.code, {"text": text}

    def authenticate(self, name="root", password=None):
        status, answer = self.raw_call("/v3/auth/authenticate",
                                       {"name": name, "password": password or self.root_password})
        if status != 200:
            raise AssertionError("etcd authenticate: %d %s" % (status, answer))
        return answer["token"]

    def call(self, path, body):
        token = self.authenticate() if self.root_password else None
        status, answer = self.raw_call(path, body, token)
        if status != 200:
            raise AssertionError("etcd %s: %d %s" % (path, status, answer))
        return answer

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


def start_etcd_for(test, **options):
    """A started EtcdServer for `test` (a ProxyTestCase): stopped at cleanup, its log shown when
    the test fails. `options`: EtcdServer's."""
    etcd = EtcdServer(**options)
    test.addCleanup(etcd.cleanup)
    etcd.start()
    test._outputs.append(lambda: "--- etcd ---\n" + etcd.log_text())
    return etcd
