#include "discovery/file_source.h"

#include <spdlog/spdlog.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/config.h"
#include "discovery/server_list.h"

namespace fulcrum::discovery {

FileSource::FileSource(std::string path) : path_(std::move(path)) {
  const std::filesystem::path p(path_);
  directory_ = p.has_parent_path() ? p.parent_path().string() : ".";
  file_name_ = p.filename().string();
}

FileSource::~FileSource() { stop(); }

void FileSource::start(asio::io_context& io, MembershipCallback on_change) {
  on_change_ = std::move(on_change);
  poll_timer_.emplace(io);
  const int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd >= 0) {
    inotify_.emplace(io, fd);
  } else {
    spdlog::warn("discovery {}: inotify unavailable ({}); polling once a second", describe(),
                 std::strerror(errno));
  }
  if (inotify_ && watch_directory()) {
    read_events();
  } else {
    poll_later();
  }
  reload();
}

void FileSource::stop() {
  if (stopped_) return;
  stopped_ = true;
  std::error_code ignored;
  if (poll_timer_) poll_timer_->cancel();
  if (inotify_) inotify_->close(ignored);
}

bool FileSource::watch_directory() {
  const uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM |
                        IN_DELETE_SELF | IN_MOVE_SELF;
  if (inotify_add_watch(inotify_->native_handle(), directory_.c_str(), mask) < 0) {
    spdlog::warn("discovery {}: cannot watch {} ({}); polling once a second", describe(),
                 directory_, std::strerror(errno));
    return false;
  }
  return true;
}

void FileSource::read_events() {
  inotify_->async_read_some(asio::buffer(events_), [this](std::error_code ec, std::size_t n) {
    if (ec || stopped_) return;
    bool relevant = false;
    bool directory_gone = false;
    for (std::size_t at = 0; at + sizeof(inotify_event) <= n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(events_.data() + at);
      if (event->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) directory_gone = true;
      if (event->len > 0 && file_name_ == event->name) relevant = true;
      at += sizeof(inotify_event) + event->len;
    }
    if (relevant) reload();
    if (directory_gone) {
      spdlog::warn("discovery {}: directory {} went away; polling once a second", describe(),
                   directory_);
      poll_later();
      return;
    }
    read_events();
  });
}

void FileSource::poll_later() {
  poll_timer_->expires_after(std::chrono::seconds(1));
  poll_timer_->async_wait([this](std::error_code ec) {
    if (ec || stopped_) return;
    reload();
    // The directory may be back: watch it again and stop polling.
    if (inotify_ && watch_directory()) {
      read_events();
    } else {
      poll_later();
    }
  });
}

void FileSource::reload() {
  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    const std::string error = std::string("cannot read: ") + std::strerror(errno);
    if (error != last_error_) {
      spdlog::warn("discovery {}: {}; keeping the last good list ({} servers)", describe(), error,
                   last_ ? last_->size() : 0);
      last_error_ = error;
    }
    return;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (last_text_ && *last_text_ == text.str()) return;
  Membership members;
  try {
    members = parse_server_list(text.str(), path_);
  } catch (const config::ConfigError& e) {
    if (e.what() != last_error_) {
      // what() starts with the file's name and the position.
      spdlog::error("discovery file {}; keeping the last good list ({} servers)", e.what(),
                    last_ ? last_->size() : 0);
      last_error_ = e.what();
    }
    return;
  }
  last_text_ = text.str();
  last_error_.clear();
  if (last_ && *last_ == members) return;
  last_ = members;
  on_change_(std::move(members));
}

}  // namespace fulcrum::discovery
