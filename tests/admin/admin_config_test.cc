// The `admin` configuration section: loopback without a token is fine, anything else needs one;
// errors name file:line:column.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/config.h"

namespace fulcrum::config {
namespace {

constexpr std::string_view kBase =
    "listeners: [{ name: web, listen: 127.0.0.1:8080, cluster: app }]\n"
    "clusters: [{ name: app, servers: [{ address: 127.0.0.1:9001 }] }]\n";

std::string error_of(std::string_view yaml, const std::string& name = "t.yaml") {
  try {
    load_config_string(yaml, name);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(loaded without error)";
}

class TokenDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("fulcrum-admin-config-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  std::filesystem::path dir_;
};

TEST(AdminConfig, OffUnlessConfigured) {
  EXPECT_FALSE(load_config_string(kBase, "t.yaml").admin.enabled);
}

TEST(AdminConfig, StateFileDefaultsBesideTheConfigAndEmptyKeepsItInMemory) {
  const std::string admin = std::string(kBase) + "admin: { listen: 127.0.0.1:0";
  EXPECT_FALSE(load_config_string(admin + " }\n", "/etc/f/t.yaml").admin.state_file.has_value());
  EXPECT_EQ(load_config_string(admin + ", state_file: \"\" }\n", "/etc/f/t.yaml").admin.state_file,
            "");
  EXPECT_EQ(
      load_config_string(admin + ", state_file: s.json }\n", "/etc/f/t.yaml").admin.state_file,
      "/etc/f/s.json");
  EXPECT_NE(error_of(admin + ", state_file: [] }\n").find("t.yaml:3:"), std::string::npos);
}

TEST(AdminConfig, LoopbackNeedsNoToken) {
  const Config v4 =
      load_config_string(std::string(kBase) + "admin: { listen: 127.0.0.1:9901 }\n", "t.yaml");
  EXPECT_TRUE(v4.admin.enabled);
  EXPECT_EQ(v4.admin.host, "127.0.0.1");
  EXPECT_EQ(v4.admin.port, 9901);
  EXPECT_TRUE(v4.admin.loopback);
  EXPECT_TRUE(v4.admin.token.empty());
  const Config v6 =
      load_config_string(std::string(kBase) + "admin: { listen: \"[::1]:0\" }\n", "t.yaml");
  EXPECT_TRUE(v6.admin.loopback);
  EXPECT_EQ(v6.admin.host, "::1");
  EXPECT_TRUE(load_config_string(std::string(kBase) + "admin: { listen: 127.8.9.10:1 }\n", "t.yaml")
                  .admin.loopback);
}

TEST(AdminConfig, ElsewhereATokenIsRequiredAndTheErrorPointsAtListen) {
  EXPECT_EQ(error_of(std::string(kBase) + "admin:\n  listen: 0.0.0.0:9901\n"),
            "t.yaml:4:11: admin listen address '0.0.0.0:9901' is not a loopback address: a "
            "'token_file' is required");
  EXPECT_EQ(error_of(std::string(kBase) + "admin: { listen: localhost:9901 }\n"),
            "t.yaml:3:18: admin listen address 'localhost:9901' must be an IP address, not a "
            "name");
  EXPECT_EQ(error_of(std::string(kBase) + "admin: { listen: 127.0.0.1 }\n"),
            "t.yaml:3:18: invalid listen address '127.0.0.1': missing port");
  EXPECT_EQ(error_of(std::string(kBase) + "admin: { token_file: x }\n"),
            "t.yaml:3:8: missing required key 'listen' in admin");
}

TEST_F(TokenDir, ReadsTheTokenRelativeToTheConfigFile) {
  write("admin.token", "  s3cret-token\n");
  const Config config = load_config_string(
      std::string(kBase) + "admin: { listen: 0.0.0.0:0, token_file: admin.token }\n",
      (dir_ / "fulcrum.yaml").string());
  EXPECT_FALSE(config.admin.loopback);
  EXPECT_EQ(config.admin.token, "s3cret-token");
  EXPECT_EQ(config.admin.token_file, (dir_ / "admin.token").string());
}

TEST_F(TokenDir, AnUnreadableEmptyOrMultiWordTokenFileIsAnError) {
  const std::string name = (dir_ / "fulcrum.yaml").string();
  const std::string missing = (dir_ / "none.token").string();
  EXPECT_EQ(
      error_of(std::string(kBase) + "admin: { listen: 0.0.0.0:0, token_file: none.token }\n", name),
      name + ":3:41: cannot read token file '" + missing + "': No such file or directory");
  write("empty.token", "\n \n");
  EXPECT_NE(
      error_of(std::string(kBase) + "admin: { listen: 0.0.0.0:0, token_file: empty.token }\n", name)
          .find("is empty"),
      std::string::npos);
  write("two.token", "a b\n");
  EXPECT_NE(
      error_of(std::string(kBase) + "admin: { listen: 0.0.0.0:0, token_file: two.token }\n", name)
          .find("holds more than one word"),
      std::string::npos);
}

TEST_F(TokenDir, ATokenFileThatNeverEndsIsRefusedNotReadForever) {
  const std::string name = (dir_ / "fulcrum.yaml").string();
  EXPECT_EQ(
      error_of(std::string(kBase) + "admin: { listen: 0.0.0.0:0, token_file: /dev/zero }\n", name),
      name + ":3:41: token file '/dev/zero' is larger than 4 KiB");
}

}  // namespace
}  // namespace fulcrum::config
