"""Shared pieces of the TLS integration tests: certificates from fulcrum-test-certs
($FULCRUM_TEST_CERTS, set by CTest) and TLS clients (curl, Python's ssl module).

Certificates: default (default.test), site (www.site.test), wild (*.example.com), localhost
(localhost, 127.0.0.1), all signed by ca; rogue (localhost, 127.0.0.1) signed by another CA."""

import os
import re
import socket
import ssl
import subprocess
import tempfile
import time

from harness import connect

CERTS = None  # The directory of the certificates, made once for the module.


def make_certs():
    """Writes the test certificates (call from setUpModule; remove_certs from tearDownModule)."""
    global CERTS, _certs_dir
    tool = os.environ.get("FULCRUM_TEST_CERTS")
    if not tool or not os.access(tool, os.X_OK):
        raise RuntimeError("set FULCRUM_TEST_CERTS to fulcrum-test-certs (ctest does this); got %r"
                           % tool)
    _certs_dir = tempfile.TemporaryDirectory(prefix="fulcrum-tls-certs-")
    CERTS = _certs_dir.name
    subprocess.run([tool, CERTS, "default=default.test", "site=www.site.test",
                    "wild=*.example.com", "localhost=localhost,127.0.0.1",
                    "ca=rogue", "rogue=localhost,127.0.0.1"], check=True, timeout=30)


def remove_certs():
    _certs_dir.cleanup()


def cert(stem):
    return os.path.join(CERTS, stem + ".pem")


def key(stem):
    return os.path.join(CERTS, stem + ".key")


def pair(stem):
    return {"cert": cert(stem), "key": key(stem)}


def listener_tls(*stems, **extra):
    item = {"certificates": [pair(stem) for stem in stems]}
    item.update(extra)
    return item


def curl(port, name, path="/", extra=()):
    """curl over HTTPS to `name` resolved to 127.0.0.1; returns the CompletedProcess whose stdout
    is the body followed by a line "STATUS <code>"."""
    url = "https://%s:%d%s" % (name, port, path)
    return subprocess.run(["curl", "-sS", "--max-time", "10", "--resolve",
                           "%s:%d:127.0.0.1" % (name, port), "--cacert", cert("ca"),
                           "-w", "\nSTATUS %{http_code}\n", *extra, url],
                          capture_output=True, timeout=20)


def status_of(result):
    match = re.search(rb"STATUS (\d+)\n$", result.stdout)
    return int(match.group(1)) if match else None


def tls_client(verify=True):
    context = ssl.create_default_context(cafile=cert("ca"))
    if not verify:
        context.check_hostname = False
    return context


def served_names(port, server_name):
    """The DNS names of the certificate the proxy presents for `server_name` (SNI); None sends
    no SNI. The chain is verified against the test CA, the name is not."""
    context = tls_client(verify=False)
    with connect(port) as raw:
        with context.wrap_socket(raw, server_hostname=server_name) as tls:
            return sorted(value for kind, value in tls.getpeercert()["subjectAltName"]
                          if kind == "DNS")


def recv_until_closed(sock, timeout):
    """Bytes received until the peer closes or resets; fails if it stays open past `timeout`."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    data = b""
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        except socket.timeout:
            break
        if not chunk:
            return data
        data += chunk
    raise AssertionError("connection still open after %ss; got %r" % (timeout, data))


def tcp_listener(name, cluster_name, **extra):
    item = {"name": name, "listen": "127.0.0.1:0", "mode": "tcp", "cluster": cluster_name}
    item.update(extra)
    return item
