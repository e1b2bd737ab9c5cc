// sd_notify over a real AF_UNIX datagram socket, by path and in the abstract namespace.
#include "app/sd_notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace fulcrum::proxy {
namespace {

class NotifySocket {
 public:
  /// `name` starting with '@' binds in the abstract namespace.
  explicit NotifySocket(const std::string& name) : name_(name) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    timeval timeout{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, name.data(), name.size());
    if (name[0] == '@') address.sun_path[0] = '\0';
    const auto size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    if (bind(fd_, reinterpret_cast<sockaddr*>(&address), size) != 0) ADD_FAILURE() << "bind";
    setenv("NOTIFY_SOCKET", name.c_str(), 1);
  }
  ~NotifySocket() {
    unsetenv("NOTIFY_SOCKET");
    close(fd_);
    if (name_[0] == '/') unlink(name_.c_str());
  }
  std::string receive() {
    char buffer[512];
    const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
  }

 private:
  std::string name_;
  int fd_;
};

TEST(SdNotify, SendsOneDatagramToAPathSocket) {
  NotifySocket socket("/tmp/fulcrum-notify-" + std::to_string(getpid()));
  EXPECT_TRUE(app::sd_notify("READY=1\nSTATUS=serving"));
  EXPECT_EQ(socket.receive(), "READY=1\nSTATUS=serving");
  EXPECT_TRUE(app::sd_notify("STOPPING=1"));
  EXPECT_EQ(socket.receive(), "STOPPING=1");
}

TEST(SdNotify, SendsToAnAbstractSocket) {
  NotifySocket socket("@fulcrum-notify-" + std::to_string(getpid()));
  EXPECT_TRUE(app::sd_notify("READY=1"));
  EXPECT_EQ(socket.receive(), "READY=1");
}

TEST(SdNotify, DoesNothingWithoutAServiceManager) {
  unsetenv("NOTIFY_SOCKET");
  EXPECT_FALSE(app::sd_notify("READY=1"));
  setenv("NOTIFY_SOCKET", "relative/path", 1);
  EXPECT_FALSE(app::sd_notify("READY=1"));
  setenv("NOTIFY_SOCKET", "/tmp/fulcrum-no-such-socket", 1);
  EXPECT_FALSE(app::sd_notify("READY=1"));
  unsetenv("NOTIFY_SOCKET");
}

}  // namespace
}  // namespace fulcrum::proxy
