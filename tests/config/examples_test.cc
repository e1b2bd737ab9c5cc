// The shipped examples and the reference documentation are part of the contract: every example
// must load, and every key the loader accepts must be documented.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/config.h"
#include "config/schema.h"
#include "core/policy_registry.h"

namespace fulcrum::config {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> example_files() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(FULCRUM_EXAMPLES_DIR)) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(Examples, EveryExampleLoads) {
  const auto files = example_files();
  // fulcrum.yaml, minimal.yaml, tcp-postgres.yaml, consistent-hash.yaml at least.
  ASSERT_GE(files.size(), 4u);
  for (const fs::path& path : files) {
    SCOPED_TRACE(path.string());
    try {
      const Config c = load_config_file(path.string());
      EXPECT_EQ(c.source_path, path.string());
      EXPECT_FALSE(c.listeners.empty());
    } catch (const ConfigError& e) {
      ADD_FAILURE() << e.what();
    }
  }
}

TEST(Examples, FullExampleMatchesTheDocumentedValues) {
  const Config c = load_config_file(std::string(FULCRUM_EXAMPLES_DIR) + "/fulcrum.yaml");
  EXPECT_EQ(c.workers, 2u);
  ASSERT_EQ(c.listeners.size(), 2u);
  EXPECT_EQ(c.listeners[0].routes,
            (std::vector<RouteConfig>{
                {"api.example.com", "/v1", "api"}, {"", "/snoop", "cluster1"}, {"", "", "web"}}));
  EXPECT_EQ(c.listeners[1].mode, ListenerMode::kTcp);
  EXPECT_EQ(c.listeners[1].cluster, "pg");
  const ClusterConfig* cluster1 = c.find_cluster("cluster1");
  ASSERT_NE(cluster1, nullptr);
  EXPECT_EQ(cluster1->hash_key, (HashKey{HashKey::Kind::kHeader, "x-user"}));
  EXPECT_EQ(cluster1->servers, (std::vector<core::ServerSpec>{{"127.0.0.1:9001", 3, false},
                                                              {"127.0.0.1:9002", 1, false},
                                                              {"localhost:9003", 1, true}}));
  ASSERT_NE(c.find_cluster("web"), nullptr);
  EXPECT_EQ(c.find_cluster("web")->servers.at(1).address, "[::1]:9202");
}

TEST(Documentation, EveryKeyAndPolicyIsDocumented) {
  const std::string docs = read_text(fs::path(FULCRUM_DOCS_DIR) / "configuration.md");
  ASSERT_FALSE(docs.empty());
  for (const schema::Section& section : schema::kAllSections) {
    for (std::string_view key : section.keys) {
      EXPECT_NE(docs.find("`" + std::string(key) + "`"), std::string::npos)
          << "key '" << key << "' of " << section.name << " is not in docs/configuration.md";
    }
  }
  for (const std::string& policy : core::PolicyRegistry::builtin().names()) {
    EXPECT_NE(docs.find("`" + policy + "`"), std::string::npos)
        << "policy '" << policy << "' is not in docs/configuration.md";
  }
}

}  // namespace
}  // namespace fulcrum::config
