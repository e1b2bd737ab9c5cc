// A reload (the next configuration generation built over the previous one) loads each TLS
// listener's certificate files again into a new context on the same session ticket keys (resumption
// across reloads: tests/integration/test_tls_reload.py), never touching the running one; a listener
// whose files fail fails the reload (file:line:column) and keeps the certificate it had.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "config/config.h"
#include "generation/generation.h"
#include "tls/config_files.h"
#include "tls/server_context.h"
#include "tls/test_certs.h"

namespace fulcrum::proxy {
namespace {

namespace testing = tls::testing;

/// The common name of the certificate a new handshake on `listener` would present.
std::string served_name(const generation::ListenerRuntime& listener) {
  const tls::SslPtr ssl = listener.tls->new_session();
  return testing::common_name(SSL_get_certificate(ssl.get()));
}

TEST(ReloadTlsTest, ListenersLoadRenewedFilesAndKeepTheirsOnFailure) {
  testing::TempDir dir;
  const auto ca = testing::make_ca("Test CA");
  const auto write = [&](const std::string& name) {
    testing::CertSpec spec;
    spec.common_name = name;
    spec.dns = {"www.example.com"};
    return testing::write_pem(dir, "server", testing::make_leaf(ca, spec));
  };
  const auto files = write("first");
  const std::string tls =
      "{ certificates: [{ cert: " + files.cert + ", key: " + files.key + " }] }";
  const std::string yaml =
      "listeners:\n"
      "  - { name: plain, listen: 127.0.0.1:0, cluster: app }\n"
      "  - { name: web, listen: 127.0.0.1:0, cluster: app, tls: " +
      tls + " }\nclusters:\n  - { name: app, servers: [{ address: 127.0.0.1:9 }] }\n";
  generation::Generation runtime(tls::load_checked_config_string(yaml, "reload.yaml"));
  const auto next = [&] {
    return std::make_unique<generation::Generation>(
        tls::load_checked_config_string(yaml, "reload.yaml"), &runtime);
  };
  ASSERT_EQ(runtime.listeners().size(), 2u);
  EXPECT_EQ(runtime.listeners()[0]->tls, nullptr);
  const generation::ListenerRuntime& web = *runtime.listeners()[1];
  ASSERT_NE(web.tls, nullptr);
  EXPECT_EQ(served_name(web), "first");

  write("renewed");  // Renewed in place, as certbot does.
  const auto reloaded = next();
  const generation::ListenerRuntime& reloaded_web = *reloaded->listeners()[1];
  EXPECT_NE(reloaded_web.tls, web.tls) << "a new context: the running one is not changed";
  EXPECT_EQ(served_name(reloaded_web), "renewed");
  EXPECT_EQ(served_name(web), "first") << "until the workers switch, the old one serves as before";

  dir.write("server.key", "not a key");
  // The loader reads the files itself: a bad key fails the reload with its position.
  EXPECT_THROW(next(), config::ConfigError);
  EXPECT_EQ(served_name(reloaded_web), "renewed");
}

}  // namespace
}  // namespace fulcrum::proxy
