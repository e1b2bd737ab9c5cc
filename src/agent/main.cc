// fulcrum-agent: the server agent to run on each backend (docs/agent.md). Each connection gets
// one line: the host's load, an operator's file or a command's output.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "agent/agent_server.h"
#include "agent/host_load.h"
#include "agent/options.h"
#include "agent/registration.h"

namespace {

using fulcrum::agent::AgentOptions;

constexpr const char* kDescription =
    "fulcrum-agent: answers each connection with one line saying how loaded this server is, for\n"
    "Fulcrum (and Equalizer: an integer -1..100) or HAProxy's agent-check (words such as\n"
    "'up ready 75%'). The answer is the host's load (1-minute load average over cores, or CPU\n"
    "busy % with --cpu), the first line printed by --command, or the first line of --file while\n"
    "that file exists and is not blank (write -1, drain or maint into it for maintenance).";

// Exit statuses, as fulcrum-sim's: 2 for a command-line mistake, 1 for a failure at run time.
constexpr int kUsageError = 2;
constexpr int kRuntimeError = 1;

int fail(const std::string& message, int status = kUsageError) {
  std::fprintf(stderr, "fulcrum-agent: %s\n", message.c_str());
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{kDescription, "fulcrum-agent"};
  std::string listen = "0.0.0.0:1510";
  std::string format = "equalizer";
  std::string command_timeout = "1s";
  bool cpu = false;
  bool version = false;
  AgentOptions options;
  app.add_option("--listen", listen, "Address to listen on: HOST:PORT, [IPV6]:PORT or :PORT")
      ->capture_default_str();
  app.add_option("--format", format,
                 "How to say a load: equalizer (the integer) or haproxy ('up ready <100-load>%', "
                 "-1 as 'drain')")
      ->check(CLI::IsMember({"equalizer", "haproxy"}))
      ->capture_default_str();
  auto* command = app.add_option("--command", options.command,
                                 "Answer the first line this /bin/sh command prints");
  app.add_option("--command-timeout", command_timeout,
                 "The command must finish within this (500ms, 2s); it is killed otherwise")
      ->capture_default_str()
      ->needs(command);
  auto* file = app.add_option("--file", options.file,
                              "Answer this file's first line, re-read on every connection; "
                              "while it is missing or blank, answer the measured load");
  auto* cpu_flag = app.add_flag("--cpu", cpu,
                                "Measure CPU busy % (from /proc/stat) instead of "
                                "the load average");
  command->excludes(file);
  command->excludes(cpu_flag);
  std::string register_url;
  std::string advertise;
  std::string register_ttl = "10s";
  std::string drain_wait = "2s";
  fulcrum::agent::RegistrationOptions registration;
  auto* register_option =
      app.add_option("--register", register_url,
                     "Register this server in etcd for discovery, under a lease kept alive while "
                     "the agent runs: etcd://HOST:PORT[,HOST:PORT...]/PREFIX/CLUSTER");
  app.add_option("--advertise", advertise,
                 "With --register: the server's address as proxies reach it, HOST:PORT (the key "
                 "is /PREFIX/CLUSTER/HOST:PORT)")
      ->needs(register_option);
  app.add_option("--register-ttl", register_ttl,
                 "The lease's TTL (whole seconds, as 10s): a killed agent's server leaves after it")
      ->capture_default_str()
      ->needs(register_option);
  app.add_option("--weight", registration.weight, "The weight registered (0..10000)")
      ->capture_default_str()
      ->check(CLI::Range(0u, 10000u))
      ->needs(register_option);
  auto* drain_flag = app.add_flag("--drain-on-exit", registration.drain_on_exit,
                                  "On SIGTERM/SIGINT, mark the server draining and wait "
                                  "--drain-wait before leaving (else leave at once)")
                         ->needs(register_option);
  app.add_option("--drain-wait", drain_wait, "How long --drain-on-exit waits (500ms, 2s)")
      ->capture_default_str()
      ->needs(drain_flag);
  bool etcd_tls = false;
  fulcrum::discovery::EtcdAccess etcd_access;
  app.add_flag("--etcd-tls", etcd_tls,
               "With --register: speak TLS to etcd, verified against the system's CA certificates "
               "(implied by the other --etcd-* TLS options)")
      ->needs(register_option);
  app.add_option("--etcd-ca-file", etcd_access.ca_file,
                 "With --register: TLS to etcd, its certificate verified against this PEM file")
      ->needs(register_option);
  app.add_option("--etcd-cert", etcd_access.cert,
                 "With --register: TLS to etcd, offering this client certificate (PEM; etcd's "
                 "--client-cert-auth); needs --etcd-key")
      ->needs(register_option);
  app.add_option("--etcd-key", etcd_access.key, "The private key of --etcd-cert (PEM)")
      ->needs(register_option);
  app.add_option("--etcd-sni", etcd_access.sni,
                 "With --register: TLS to etcd, sending and verifying this name instead of each "
                 "endpoint's host")
      ->needs(register_option);
  app.add_option("--etcd-username", etcd_access.username,
                 "With --register: authenticate to etcd as this user; needs --etcd-password-file")
      ->needs(register_option);
  app.add_option("--etcd-password-file", etcd_access.password_file,
                 "The password of --etcd-username: the file's first line")
      ->needs(register_option);
  app.add_flag("--version", version, "Print the version and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // Prints help, version or the error.
    return code == 0 ? 0 : kUsageError;
  }

  if (version) {
    std::printf("fulcrum-agent %s\n", FULCRUM_VERSION);
    return 0;
  }
  std::string error;
  const auto address = fulcrum::agent::parse_listen_address(listen, error);
  if (!address) return fail("--listen " + error);
  options.listen_host = address->host;
  options.listen_port = address->port;
  const auto timeout = fulcrum::agent::parse_duration(command_timeout, error);
  if (!timeout) return fail("--command-timeout " + error);
  options.command_timeout = *timeout;
  if (app.count("--command") > 0 && options.command.empty()) {
    return fail("--command: the command is empty");
  }
  if (app.count("--file") > 0 && options.file.empty()) return fail("--file: the path is empty");
  options.format = format == "haproxy" ? fulcrum::agent::AnswerFormat::kHaproxy
                                       : fulcrum::agent::AnswerFormat::kEqualizer;
  options.load_source =
      cpu ? fulcrum::agent::LoadSource::kCpu : fulcrum::agent::LoadSource::kLoadAverage;
  if (cpu && !fulcrum::agent::read_proc_stat()) {
    return fail("--cpu: cannot read /proc/stat", kRuntimeError);
  }

  const bool registering = app.count("--register") > 0;
  if (registering) {
    if (!fulcrum::agent::parse_register_target(register_url, registration, error)) {
      return fail("--register " + error);
    }
    if (!fulcrum::agent::set_etcd_access(std::move(etcd_access), etcd_tls, registration, error)) {
      return fail(error);
    }
    if (app.count("--advertise") == 0) return fail("--register needs --advertise HOST:PORT");
    const auto address = fulcrum::agent::parse_advertise_address(advertise, error);
    if (!address) return fail("--advertise " + error);
    registration.advertise = *address;
    const auto ttl = fulcrum::agent::parse_duration(register_ttl, error);
    if (!ttl) return fail("--register-ttl " + error);
    if (ttl->count() % 1000 != 0) {
      return fail("--register-ttl '" + register_ttl + "': etcd leases take whole seconds");
    }
    registration.ttl = std::chrono::duration_cast<std::chrono::seconds>(*ttl);
    const auto wait = fulcrum::agent::parse_duration(drain_wait, error);
    if (!wait) return fail("--drain-wait " + error);
    registration.drain_wait = *wait;
  }

  // Logs go to stderr; stdout carries only the "listening on" line that scripts wait for.
  spdlog::set_default_logger(spdlog::stderr_color_st("fulcrum-agent"));
  fulcrum::agent::AgentServer server(std::move(options));
  asio::ip::tcp::endpoint endpoint;
  try {
    endpoint = server.listen();
  } catch (const std::exception& e) {
    return fail("cannot listen on " + listen + ": " + e.what(), kRuntimeError);
  }
  const bool v6 = endpoint.address().is_v6();
  std::printf("listening on %s%s%s:%u\n", v6 ? "[" : "", endpoint.address().to_string().c_str(),
              v6 ? "]" : "", static_cast<unsigned>(endpoint.port()));
  std::fflush(stdout);
  try {
    if (!registering) return server.run_until_signal();
    fulcrum::agent::Registrar registrar(server.io_context(), std::move(registration));
    registrar.start();
    return server.run_until_signal([&registrar] { return registrar.leave(); });
  } catch (const std::exception& e) {
    return fail(e.what(), kRuntimeError);
  }
}
