#pragma once

#include <array>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <optional>
#include <string>

#include "discovery/source.h"

namespace fulcrum::discovery {

/// Membership from a file (server_list.h), re-read when it changes. The directory is watched
/// with inotify (a file closed after writing, or a file renamed over it: editors and atomic
/// writers replace the file, so watching the file itself would lose track after the first
/// save). A file that does not parse keeps the last good list and is logged with
/// file:line:column; so is a missing file. Without inotify (or if the directory is missing) it
/// polls once a second.
class FileSource final : public Source {
 public:
  explicit FileSource(std::string path);
  ~FileSource() override;

  void start(asio::io_context& io, MembershipCallback on_change) override;
  void stop() override;
  std::string describe() const override { return "file " + path_; }

  /// Reads and parses the file; reports a changed membership. Public for tests.
  void reload();

 private:
  bool watch_directory();
  void read_events();
  void poll_later();

  const std::string path_;
  std::string directory_;
  std::string file_name_;
  MembershipCallback on_change_;
  std::optional<asio::posix::stream_descriptor> inotify_;
  std::optional<asio::steady_timer> poll_timer_;
  alignas(8) std::array<char, 4096> events_{};  // inotify_event records: 4-byte aligned
  std::optional<std::string> last_text_;
  std::optional<Membership> last_;
  std::string last_error_;  ///< Logged once per distinct error.
  bool stopped_ = false;
};

}  // namespace fulcrum::discovery
