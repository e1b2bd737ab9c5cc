#pragma once

namespace fulcrum::demo {

/// `fulcrum --demo`: forks three small HTTP backends on loopback ephemeral ports, prints the
/// configuration it uses and what to try, then runs the proxy on 127.0.0.1:8080 and the admin
/// listener on 127.0.0.1:9901 (another free port if 9901 is taken), prints the status page's
/// address with a token made for this run, serves until SIGINT or SIGTERM, and stops the
/// backends. Returns the exit status.
int run();

/// Serves HTTP/1.1 on an already listening socket `fd` until the process is killed: every
/// request gets a short plain-text answer naming `name`. Used by the demo's child processes.
[[noreturn]] void serve_backend(int fd, int index);

}  // namespace fulcrum::demo
