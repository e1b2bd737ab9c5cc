#include "discovery/etcd_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <charconv>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "net/no_throw.h"

namespace fulcrum::discovery {
namespace {

/// As the configuration's limit on a server's weight.
constexpr uint64_t kMaxWeight = 10000;

bool valid_address(std::string_view address) {
  const std::size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view host = address.substr(0, colon);
  const std::string_view port_text = address.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port == 0 || port > 65535) {
    return false;
  }
  if (host.front() == '[') return host.size() > 2 && host.back() == ']';
  return host.find_first_of(":[]") == std::string_view::npos;
}

}  // namespace

std::optional<DiscoveredServer> parse_etcd_server(std::string_view key, std::string_view value,
                                                  std::string& error) {
  const std::string_view address = key.substr(key.rfind('/') + 1);
  if (!valid_address(address)) {
    error = "key '" + std::string(key) + "': the last segment is not HOST:PORT";
    return std::nullopt;
  }
  DiscoveredServer server;
  server.spec.address = std::string(address);
  if (value.find_first_not_of(" \t\r\n") == std::string_view::npos) return server;
  const auto json = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  const std::string where = "key '" + std::string(key) + "': ";
  if (!json.is_object()) {
    error = where + "the value is not a JSON object";
    return std::nullopt;
  }
  if (const auto it = json.find("weight"); it != json.end()) {
    if (!it->is_number_unsigned() || it->get<uint64_t>() > kMaxWeight) {
      error = where + "weight must be an integer from 0 to " + std::to_string(kMaxWeight);
      return std::nullopt;
    }
    server.spec.weight = static_cast<uint32_t>(it->get<uint64_t>());
  }
  for (const auto& [name, field] :
       {std::pair{"backup", &server.spec.backup}, std::pair{"drain", &server.draining}}) {
    if (const auto it = json.find(name); it != json.end()) {
      if (!it->is_boolean()) {
        error = where + name + " must be true or false";
        return std::nullopt;
      }
      *field = it->get<bool>();
    }
  }
  return server;
}

struct EtcdSource::Run {
  Run(asio::io_context& io, const EtcdSourceOptions& options, MembershipCallback on_change)
      : client(io.get_executor(), options.endpoints, options.request_timeout, options.access),
        timer(io),
        options(options),
        on_change(std::move(on_change)) {}

  asio::awaitable<void> loop(std::shared_ptr<Run> self);
  /// A changed or new key: parsed and kept, or logged and left out.
  void apply_put(const std::string& key, const std::string& value);
  void report_if_changed();
  asio::awaitable<void> back_off();

  EtcdClient client;
  asio::steady_timer timer;
  EtcdSourceOptions options;
  MembershipCallback on_change;
  std::map<std::string, DiscoveredServer> servers;  ///< By key: the keys with a valid value.
  std::optional<Membership> reported;
  /// Where the watch resumes: one past the last revision seen. 0: range first.
  int64_t next_revision = 0;
  std::chrono::milliseconds backoff{0};
  bool stopped = false;
};

void EtcdSource::Run::apply_put(const std::string& key, const std::string& value) {
  std::string error;
  if (auto server = parse_etcd_server(key, value, error)) {
    servers[key] = std::move(*server);
  } else {
    spdlog::warn("etcd {}: {}; the key is skipped", options.prefix, error);
    servers.erase(key);
  }
}

void EtcdSource::Run::report_if_changed() {
  Membership membership;
  membership.reserve(servers.size());
  for (const auto& [key, server] : servers) {
    const bool duplicate = std::any_of(
        membership.begin(), membership.end(),
        [&](const DiscoveredServer& s) { return s.spec.address == server.spec.address; });
    if (duplicate) {
      spdlog::warn("etcd {}: key '{}' names {} again; the first key wins", options.prefix, key,
                   server.spec.address);
      continue;
    }
    membership.push_back(server);
  }
  std::sort(membership.begin(), membership.end(),
            [](const auto& a, const auto& b) { return a.spec.address < b.spec.address; });
  if (reported == membership || stopped) return;
  reported = membership;
  on_change(std::move(membership));
}

asio::awaitable<void> EtcdSource::Run::back_off() {
  backoff = std::clamp(backoff * 2, options.min_backoff, options.max_backoff);
  timer.expires_after(backoff);
  co_await timer.async_wait(net::kNoThrow);  // cancelled or expired: both end the wait
}

asio::awaitable<void> EtcdSource::Run::loop(std::shared_ptr<Run> self) {
  const std::string& prefix = options.prefix;
  while (!stopped) {
    if (next_revision == 0) {
      auto range = co_await client.range(prefix);
      if (stopped) break;
      if (!range.ok()) {
        spdlog::warn("etcd {}: {}; retrying (membership unchanged)", prefix, range.error.message);
        co_await back_off();
        continue;
      }
      servers.clear();
      for (const EtcdKeyValue& kv : range.value.kvs) apply_put(kv.key, kv.value);
      next_revision = range.value.revision + 1;
      backoff = std::chrono::milliseconds(0);
      spdlog::info("etcd {}: {} keys at revision {} (from {})", prefix, range.value.kvs.size(),
                   range.value.revision, client.current_endpoint().to_string());
      report_if_changed();
    }

    const EtcdError error =
        co_await client.watch(prefix, next_revision, [this](const WatchMessage& message) {
          if (stopped) return;
          if (message.created) {
            backoff = std::chrono::milliseconds(0);
            spdlog::info("etcd {}: watching from revision {} (at {})", options.prefix,
                         next_revision, client.current_endpoint().to_string());
          }
          for (const EtcdEvent& event : message.events) {
            if (event.type == EtcdEvent::Type::kPut) {
              apply_put(event.key, event.value);
            } else {
              servers.erase(event.key);
            }
            next_revision = std::max(next_revision, event.mod_revision + 1);
          }
          if (!message.events.empty()) report_if_changed();
        });
    if (stopped) break;
    if (error.kind == EtcdError::Kind::kCompacted) {
      spdlog::warn("etcd {}: {}; reading the prefix again", prefix, error.message);
      next_revision = 0;
      continue;
    }
    spdlog::warn("etcd {}: {}; resuming from revision {} (membership unchanged)", prefix,
                 error.message, next_revision);
    co_await back_off();
  }
  (void)self;  // Kept this Run alive until here.
}

EtcdSource::EtcdSource(EtcdSourceOptions options) : options_(std::move(options)) {
  if (!options_.prefix.ends_with('/')) options_.prefix += '/';
}

EtcdSource::~EtcdSource() { stop(); }

std::unique_ptr<EtcdSource> EtcdSource::create(const std::vector<std::string>& endpoints,
                                               std::string prefix, EtcdAccess access,
                                               std::string& error) {
  EtcdSourceOptions options{.access = std::move(access), .prefix = std::move(prefix)};
  for (const std::string& text : endpoints) {
    auto endpoint = parse_etcd_endpoint(text, error);
    if (!endpoint) return nullptr;
    options.endpoints.push_back(std::move(*endpoint));
  }
  if (options.endpoints.empty()) {
    error = "etcd discovery: no endpoints";
    return nullptr;
  }
  if (options.prefix.empty() || options.prefix == "/") {
    error = "etcd discovery: the prefix is empty";
    return nullptr;
  }
  return std::make_unique<EtcdSource>(std::move(options));
}

std::unique_ptr<Source> make_etcd_source(const std::vector<std::string>& endpoints,
                                         std::string prefix, EtcdAccess access) {
  std::string error;
  auto source = EtcdSource::create(endpoints, std::move(prefix), std::move(access), error);
  if (!source) throw std::runtime_error(error);
  return source;
}

EtcdAccess etcd_access(const config::EtcdTlsConfig& tls, const config::EtcdAuthConfig& auth) {
  return EtcdAccess{.ca_file = tls.ca_file,
                    .cert = tls.client_certificate.cert,
                    .key = tls.client_certificate.key,
                    .sni = tls.sni,
                    .username = auth.username,
                    .password_file = auth.password_file};
}

void EtcdSource::start(asio::io_context& io, MembershipCallback on_change) {
  stop();
  try {
    run_ = std::make_shared<Run>(io, options_, std::move(on_change));
  } catch (const tls::TlsError& e) {
    // The loader checked these files; one changed since. Nothing is discovered: say why.
    spdlog::error("etcd discovery {}: {}", options_.prefix, e.what());
    return;
  }
  asio::co_spawn(io, run_->loop(run_), asio::detached);
}

void EtcdSource::stop() {
  if (!run_) return;
  run_->stopped = true;
  run_->client.cancel();
  run_->timer.cancel();
  run_.reset();
}

std::string EtcdSource::describe() const { return "etcd " + options_.prefix; }

}  // namespace fulcrum::discovery
