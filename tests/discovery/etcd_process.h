#pragma once

// A real etcd server for the etcd tests: a temporary data directory, loopback client and peer
// ports picked by binding port 0, started and waited for (GET /health, with a deadline). It can
// be stopped and started again on the same data directory, on its own port or another one (to
// change keys while a watcher on the usual port is cut off). Keys are changed with etcdctl, so
// that the code under test is not what checks itself.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace fulcrum::discovery::testing {

inline std::string find_program(const char* env, const char* name) {
  if (const char* path = std::getenv(env); path && *path) return path;
  for (const char* dir : {"/usr/bin", "/usr/local/bin", "/usr/sbin"}) {
    const std::string path = std::string(dir) + "/" + name;
    if (access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

/// A free loopback TCP port: bound to port 0, then released.
inline uint16_t free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

/// One HTTP GET on 127.0.0.1:port; the whole answer, or "" when the connection fails.
inline std::string http_get(uint16_t port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{.tv_sec = 1, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  std::string answer;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      for (ssize_t n; (n = read(fd, buffer, sizeof buffer)) > 0;) answer.append(buffer, n);
    }
  }
  close(fd);
  return answer;
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes.
template <typename Condition>
bool wait_for(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

class EtcdProcess {
 public:
  EtcdProcess() {
    binary_ = find_program("FULCRUM_ETCD_BIN", "etcd");
    etcdctl_ = find_program("FULCRUM_ETCDCTL_BIN", "etcdctl");
    char pattern[] = "/tmp/fulcrum-etcd-test-XXXXXX";
    if (mkdtemp(pattern)) dir_ = pattern;
    client_port_ = free_port();
    peer_port_ = free_port();
  }
  ~EtcdProcess() {
    stop();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  EtcdProcess(const EtcdProcess&) = delete;
  EtcdProcess& operator=(const EtcdProcess&) = delete;

  /// Empty when etcd can run; else why not, for ASSERT messages.
  std::string missing() const {
    if (binary_.empty()) {
      return "the etcd server binary was not found in /usr/bin, /usr/local/bin or "
             "$FULCRUM_ETCD_BIN (Debian/Ubuntu: apt-get install etcd-server etcd-client)";
    }
    if (etcdctl_.empty()) return "etcdctl was not found (apt-get install etcd-client)";
    if (dir_.empty()) return "cannot create a temporary directory";
    return "";
  }

  /// Starts etcd on `client_port` (0: its usual port) and waits until /health answers.
  ::testing::AssertionResult start(uint16_t client_port = 0) {
    if (const std::string why = missing(); !why.empty()) {
      return ::testing::AssertionFailure() << why;
    }
    serving_port_ = client_port != 0 ? client_port : client_port_;
    const std::string client = "http://127.0.0.1:" + std::to_string(serving_port_);
    const std::string peer = "http://127.0.0.1:" + std::to_string(peer_port_);
    std::vector<std::string> args = {binary_,
                                     "--name=t",
                                     "--data-dir=" + dir_ + "/data",
                                     "--listen-client-urls=" + client,
                                     "--advertise-client-urls=" + client,
                                     "--listen-peer-urls=" + peer,
                                     "--initial-advertise-peer-urls=" + peer,
                                     "--initial-cluster=t=" + peer,
                                     "--log-outputs=stderr"};
    pid_ = spawn(args, dir_ + "/etcd.log");
    if (pid_ <= 0) return ::testing::AssertionFailure() << "cannot start " << binary_;
    const bool healthy = wait_for(
        [&] {
          return http_get(serving_port_, "/health").find("\"health\":\"true\"") !=
                     std::string::npos ||
                 exited();
        },
        std::chrono::seconds(20));
    if (!healthy || exited()) {
      return ::testing::AssertionFailure()
             << "etcd did not become healthy on " << client << "; its log:\n"
             << log_tail();
    }
    return ::testing::AssertionSuccess();
  }

  /// SIGTERM, and waits for the process to end (its ports are closed then).
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  /// Deletes the data directory (while stopped): the next start is a new, empty etcd.
  void wipe() { std::filesystem::remove_all(dir_ + "/data"); }

  uint16_t port() const { return client_port_; }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(client_port_); }

  /// Runs etcdctl against the port etcd serves on now; its standard output, or "" on failure
  /// (with `ok` false).
  std::string etcdctl(const std::vector<std::string>& args, bool* ok = nullptr) const {
    std::vector<std::string> argv = {
        etcdctl_, "--endpoints=http://127.0.0.1:" + std::to_string(serving_port_),
        "--dial-timeout=2s", "--command-timeout=5s"};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string out = dir_ + "/etcdctl.out";
    const pid_t pid = spawn(argv, out, {"ETCDCTL_API=3"});
    int status = -1;
    if (pid > 0) waitpid(pid, &status, 0);
    const bool success = pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (ok) *ok = success;
    std::ifstream file(out);
    std::stringstream text;
    text << file.rdbuf();
    if (!success) ADD_FAILURE() << "etcdctl failed: " << text.str();
    return success ? text.str() : "";
  }
  void put(const std::string& key, const std::string& value) const { etcdctl({"put", key, value}); }
  void remove(const std::string& key) const { etcdctl({"del", key}); }
  /// The current revision of the store.
  int64_t revision() const {
    const std::string out = etcdctl({"get", "/", "--write-out=json"});
    const std::size_t at = out.find("\"revision\":");
    return at == std::string::npos ? 0 : std::atoll(out.c_str() + at + 11);
  }

  std::string log_tail() const {
    std::ifstream file(dir_ + "/etcd.log");
    std::stringstream text;
    text << file.rdbuf();
    const std::string all = text.str();
    return all.size() > 4000 ? all.substr(all.size() - 4000) : all;
  }

 private:
  bool exited() {
    int status = 0;
    if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return true;
    }
    return pid_ <= 0;
  }

  static pid_t spawn(const std::vector<std::string>& args, const std::string& output,
                     const std::vector<std::string>& extra_env = {}) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<std::string> env_strings = extra_env;
    for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
    std::vector<char*> env;
    for (auto& e : env_strings) env.push_back(e.data());
    env.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid = -1;
    if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), env.data()) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&actions);
    return pid;
  }

  std::string binary_;
  std::string etcdctl_;
  std::string dir_;
  uint16_t client_port_ = 0;
  uint16_t peer_port_ = 0;
  uint16_t serving_port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace fulcrum::discovery::testing
