// The configuration loader on arbitrary YAML text: any input either loads or throws ConfigError
// (with a position inside the text); anything else (another exception, a crash, a hang) is a
// bug. The name puts the file in a directory that does not exist, so that relative certificate
// and token paths in the input never reach real files.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using fulcrum::fuzz::check;
  static const std::string kName = "/nonexistent-fuzz-dir/fuzz.yaml";
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  try {
    const fulcrum::config::Config config = fulcrum::config::load_config_string(yaml, kName);
    check(config.source_path == kName);
  } catch (const fulcrum::config::ConfigError& e) {
    check(e.line() >= 0 && e.column() >= 0 && !e.message().empty());
  }
  return 0;
}
