// fulcrum: the HTTP/1.1 and TCP load-balancing reverse proxy.
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "app/daemon.h"
#include "app/demo.h"
#include "config/config.h"
#include "tls/config_files.h"

namespace {

constexpr const char* kVersion = FULCRUM_VERSION;  // The project version (CMakeLists.txt).

/// As HAProxy does: the soft limit on open files goes up to the hard one, so connections are not
/// cut short by a 1024 default. Each proxied connection holds two descriptors (client, server).
void raise_open_files_limit(const fulcrum::config::Config& config) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    const rlim_t soft = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) == 0) {
      spdlog::info("open files limit raised from {} to {} (the hard limit)", soft, limit.rlim_cur);
    } else {
      limit.rlim_cur = soft;
      spdlog::warn("open files limit {}: could not raise it to the hard limit {}", soft,
                   limit.rlim_max);
    }
  } else {
    spdlog::info("open files limit {}", limit.rlim_cur);
  }
  uint64_t wanted = 0;
  for (const auto& listener : config.listeners)
    wanted += 2 * uint64_t{listener.limits.max_connections};
  if (wanted > limit.rlim_cur) {
    spdlog::warn(
        "the listeners' max_connections allow {} open files (client and server side), more than "
        "the limit {}: past it new connections wait in the backlog until some close",
        wanted, limit.rlim_cur);
  }
}

/// One line per problem, in file order, as a compiler lists them; a count when there are several.
void print_config_errors(const fulcrum::config::ConfigError& error) {
  const auto errors = error.errors();
  for (const auto& each : errors) std::fprintf(stderr, "fulcrum: %s\n", each.what());
  if (error.total() > errors.size()) {
    std::fprintf(stderr, "fulcrum: %zu errors in %s (the first %zu shown)\n", error.total(),
                 error.file().c_str(), errors.size());
  } else if (error.total() > 1) {
    std::fprintf(stderr, "fulcrum: %zu errors in %s\n", error.total(), error.file().c_str());
  }
}

int run_proxy(const std::string& path) {
  fulcrum::config::Config config;
  try {
    config = fulcrum::tls::load_checked_config_file(path);
  } catch (const fulcrum::config::ConfigError& e) {
    print_config_errors(e);
    return 1;
  }
  raise_open_files_limit(config);
  try {
    fulcrum::app::Daemon daemon(std::move(config));
    daemon.start();
    return daemon.run_until_signal();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fulcrum: %s\n", e.what());
    return 1;
  }
}

int check(const std::string& path) {
  try {
    const auto config = fulcrum::tls::load_checked_config_file(path);
    std::printf("fulcrum: configuration %s is valid (%zu listeners, %zu clusters)\n", path.c_str(),
                config.listeners.size(), config.clusters.size());
    return 0;
  } catch (const fulcrum::config::ConfigError& e) {
    print_config_errors(e);
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fulcrum: HTTP/1.1 and TCP load-balancing reverse proxy"};
  std::string config_path;
  bool check_only = false;
  bool demo = false;
  bool version = false;
  app.add_option("-c,--config", config_path, "Configuration file (YAML)");
  app.add_flag("--check", check_only, "Validate the configuration and exit 0 (valid) or 1");
  app.add_flag("--demo", demo,
               "Start three demo backends on loopback and the proxy on 127.0.0.1:8080");
  app.add_flag("--version", version, "Print the version and exit");
  CLI11_PARSE(app, argc, argv);

  if (version) {
    std::printf("fulcrum %s\n", kVersion);
    return 0;
  }
  if (demo) return fulcrum::demo::run();
  if (config_path.empty()) {
    std::fprintf(stderr, "fulcrum: -c FILE is required (or --demo); see --help\n");
    return 1;
  }
  return check_only ? check(config_path) : run_proxy(config_path);
}
