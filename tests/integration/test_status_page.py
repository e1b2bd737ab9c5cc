"""The admin status page in headless Chromium (Debian's `chromium`), driven over the DevTools
protocol (browser.py).

One test: the page loads and renders a row per server, a drain click without the token is
refused, the operator types the token, clicks drain on a server (without first pressing "Use
token": the typed token is sent) and sees its state change (confirmed through the API), after a
reload the kept token disables another server, and a screenshot is saved in the build directory
(artifacts/status_page.png).

The other: in a 1280x800 window, with two live servers and a dead one that traffic has hit, the
page needs no horizontal scrolling (every column, the buttons last, is inside the window) and
each server's row draws its last hour (requests per minute, errors in red) with the same counts
the API reports; the screenshot is artifacts/status_page_1280x800.png."""

import base64
import json
import os
import tempfile
import unittest

from admin_api import AdminClient, admin_port
from browser import artifacts_dir, start_chromium
from harness import ProxyTestCase, closed_port_address, cluster, config, http_listener, served
from harness import wait_until

TOKEN = "page-t0ken"


class StatusPage(ProxyTestCase):
    def test_page_renders_drains_with_token_and_saves_a_screenshot(self):
        b1 = self.start_backend("b1")
        b2 = self.start_backend("b2")
        token_dir = tempfile.TemporaryDirectory(prefix="fulcrum-token-")
        self.addCleanup(token_dir.cleanup)
        token_file = os.path.join(token_dir.name, "admin.token")
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")
        proxy = self.start_proxy(config([http_listener("web", "web")],
                                        [cluster("web", [b1, b2])],
                                        admin={"listen": "127.0.0.1:0",
                                               "token_file": token_file}))
        port = admin_port(proxy)
        api = AdminClient(port)
        page = start_chromium(self)
        page.call("Page.enable")
        page.call("Page.navigate", url="http://127.0.0.1:%d/" % port)

        rows_js = ("JSON.stringify([...document.querySelectorAll('tr[data-server]')].map(r => "
                   "[r.dataset.cluster, r.dataset.server, r.querySelector('.admin-state')"
                   ".textContent, r.querySelector('.state').textContent]))")
        rows = wait_until(lambda: (lambda v: v if len(v) == 2 else None)(
            json.loads(page.evaluate(rows_js) or "[]")), 15, message="two rendered server rows")
        self.assertEqual(rows, [["web", b1.address, "enabled", "up"],
                                ["web", b2.address, "enabled", "up"]])
        self.assertEqual(page.evaluate("document.querySelectorAll('.timeline rect').length"), 2)

        drain = "tr[data-server='%s'] button[data-action='drain']" % b2.address
        # Without the token the change is refused and the page says so.
        page.click(drain)
        wait_until(lambda: "401" in page.evaluate("document.getElementById('message')"
                                                  ".textContent"), 10,
                   message="the page to show the refusal")
        self.assertEqual(api.server("web", b2.address)["admin_state"], "enabled")

        # The operator types the token and clicks drain straight away, without "Use token":
        # the typed token is what the click sends.
        page.evaluate("document.getElementById('token').focus()")
        page.call("Input.insertText", text=TOKEN)
        page.click(drain)
        state_js = ("document.querySelector(\"tr[data-server='%s'] .admin-state\").textContent"
                    % b2.address)
        wait_until(lambda: page.evaluate(state_js) == "draining", 10,
                   message="the row to show draining")
        self.assertEqual(api.server("web", b2.address)["admin_state"], "draining")
        # The log line may reach the pipe reader a little after the API shows the change.
        changed = "server %s of cluster 'web' enabled -> draining by 127.0.0.1:" % b2.address
        line = proxy.stdout.wait_for(
            lambda lines: next((text for _, text in lines if changed in text), None), 10,
            "the change in the proxy's log")
        self.assertIn("(token)", line)
        self.assertEqual(page.evaluate(
            "document.querySelector(\"tr[data-server='%s'] .state\").className" % b2.address),
            "state warn")

        # The token used is kept for the tab: after a reload, disable works without typing it.
        page.call("Page.reload")
        disable = "tr[data-server='%s'] button[data-action='disable']" % b1.address
        wait_until(lambda: page.evaluate("!!document.querySelector(%s)" % json.dumps(disable)),
                   15, message="the rows after the reload")
        page.click(disable)
        wait_until(lambda: api.server("web", b1.address)["admin_state"] == "disabled", 10,
                   message="b1 disabled through the page")
        wait_until(lambda: page.evaluate(
            "document.querySelector(\"tr[data-server='%s'] .admin-state\").textContent"
            % b1.address) == "disabled", 10, message="the row to show disabled")

        shot = base64.b64decode(page.call("Page.captureScreenshot", format="png")["data"])
        self.assertTrue(shot.startswith(b"\x89PNG\r\n\x1a\n"))
        path = os.path.join(artifacts_dir(), "status_page.png")
        with open(path, "wb") as f:
            f.write(shot)
        self.assertGreater(os.path.getsize(path), 10000)
        page.ws.close()
        self.stop_proxy(proxy)

    def test_page_fits_1280_by_800_and_shows_each_servers_last_hour(self):
        b1 = self.start_backend("b1")
        b2 = self.start_backend("b2")
        dead = closed_port_address()
        # Offline for longer than the test takes: the screenshot shows it down.
        web = cluster("web", [b1, b2, dead], retries=2,
                      passive={"attempts": 1, "offline_timeout": "30s"})
        proxy = self.start_proxy(config([http_listener("web", "web")], [web],
                                        admin={"listen": "127.0.0.1:0"}))
        api = AdminClient(admin_port(proxy))
        # Every client request succeeds (retried off the dead server); the dead one's refused
        # connections are its errors.
        self.assertEqual(len(served(proxy.port("web"), 20)), 20)

        def hour_totals():
            servers = api.get("/api/v1/clusters/web").json()["servers"]
            return {s["address"]: (sum(r or 0 for r in s["last_hour"]["requests"]),
                                   sum(e or 0 for e in s["last_hour"]["errors"]))
                    for s in servers}
        # The admin thread samples every 500 ms: wait until it has counted all 20 answers.
        totals = wait_until(lambda: (lambda t: t if t[b1.address][0] + t[b2.address][0] == 20
                                     else None)(hour_totals()), 10,
                            message="the 20 requests in the API's last_hour")
        self.assertEqual((totals[b1.address][1], totals[b2.address][1]), (0, 0), totals)
        self.assertGreater(totals[dead][1], 0, totals)
        buckets = api.server("web", dead)["last_hour"]
        self.assertEqual((len(buckets["requests"]), len(buckets["errors"]),
                          buckets["bucket_seconds"]), (60, 60, 60))

        page = start_chromium(self, window="1280,800")
        # The whole window is the page: no room taken by browser bars, however headless
        # Chromium counts them.
        page.call("Emulation.setDeviceMetricsOverride", width=1280, height=800,
                  deviceScaleFactor=1, mobile=False)
        page.call("Page.enable")
        page.call("Page.navigate", url="http://127.0.0.1:%d/" % api.port)
        # Per row: the sums of the minute bars' counts, and whether any bar has a red part.
        history_js = ("JSON.stringify(Object.fromEntries([...document.querySelectorAll("
                      "'tr[data-server]')].map(r => { const bars = [...r.querySelectorAll("
                      "'svg.history g.minute')]; const sum = (k) => bars.reduce((a, b) => "
                      "a + Number(b.dataset[k]), 0); return [r.dataset.server, [sum('requests'),"
                      " sum('errors'), !!r.querySelector('svg.history rect.err')]]; })))")
        drawn = wait_until(lambda: (lambda v: v if len(v) == 3 else None)(
            json.loads(page.evaluate(history_js) or "{}")), 15, message="three rendered rows")
        self.assertEqual(drawn, {b1.address: [totals[b1.address][0], 0, False],
                                 b2.address: [totals[b2.address][0], 0, False],
                                 dead: [totals[dead][0], totals[dead][1], True]})

        geometry = json.loads(page.evaluate(
            "JSON.stringify({inner: window.innerWidth, client: document.documentElement"
            ".clientWidth, scroll: document.documentElement.scrollWidth, right: Math.max(...["
            "...document.querySelectorAll('td, th, button')].map(e => "
            "e.getBoundingClientRect().right))})"))
        self.assertEqual(geometry["inner"], 1280, geometry)
        self.assertLessEqual(geometry["scroll"], geometry["client"], geometry)
        self.assertLessEqual(geometry["right"], geometry["client"], geometry)

        shot = base64.b64decode(page.call("Page.captureScreenshot", format="png")["data"])
        path = os.path.join(artifacts_dir(), "status_page_1280x800.png")
        with open(path, "wb") as f:
            f.write(shot)
        print("screenshot: " + path)
        page.ws.close()
        self.stop_proxy(proxy)


if __name__ == "__main__":
    unittest.main()
