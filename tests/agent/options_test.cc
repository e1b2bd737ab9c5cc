// fulcrum-agent's option values: listen addresses and durations.
#include "agent/options.h"

#include <gtest/gtest.h>

namespace fulcrum::agent {
namespace {

TEST(ListenAddressTest, Forms) {
  std::string error;
  auto a = parse_listen_address("127.0.0.1:1510", error);
  ASSERT_TRUE(a) << error;
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 1510);
  a = parse_listen_address("[::1]:0", error);
  ASSERT_TRUE(a) << error;
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, 0);
  a = parse_listen_address(":1511", error);
  ASSERT_TRUE(a) << error;
  EXPECT_EQ(a->host, "0.0.0.0");
  EXPECT_EQ(a->port, 1511);
}

TEST(ListenAddressTest, ErrorsSayWhatIsExpected) {
  std::string error;
  EXPECT_FALSE(parse_listen_address("1510", error));
  EXPECT_NE(error.find("expected HOST:PORT"), std::string::npos);
  EXPECT_FALSE(parse_listen_address("127.0.0.1:65536", error));
  EXPECT_NE(error.find("0 to 65535"), std::string::npos);
  EXPECT_FALSE(parse_listen_address("127.0.0.1:", error));
  EXPECT_FALSE(parse_listen_address("127.0.0.1:x", error));
  EXPECT_FALSE(parse_listen_address("localhost:1510", error));
  EXPECT_NE(error.find("'localhost' is not an IPv4 address"), std::string::npos);
  EXPECT_FALSE(parse_listen_address("::1:1510", error));
  EXPECT_NE(error.find("brackets"), std::string::npos);
  EXPECT_FALSE(parse_listen_address("[1.2.3.4]:1", error));
  EXPECT_NE(error.find("not an IPv6 address"), std::string::npos);
}

TEST(DurationTest, MillisecondsSecondsAndBareNumbers) {
  std::string error;
  EXPECT_EQ(parse_duration("250ms", error), std::chrono::milliseconds(250));
  EXPECT_EQ(parse_duration("2s", error), std::chrono::milliseconds(2000));
  EXPECT_EQ(parse_duration("1500", error), std::chrono::milliseconds(1500));
  EXPECT_EQ(parse_duration("3600s", error), std::chrono::milliseconds(3600000));
}

TEST(DurationTest, Errors) {
  std::string error;
  for (const char* bad : {"", "0", "0s", "-1s", "1.5s", "s", "ms", "2m", "3601s", "10 s"}) {
    EXPECT_FALSE(parse_duration(bad, error)) << bad;
    EXPECT_NE(error.find("expected a duration"), std::string::npos) << bad;
  }
}

TEST(RegisterTargetTest, EndpointsAndKeyPrefix) {
  std::string error;
  RegistrationOptions options;
  ASSERT_TRUE(parse_register_target("etcd://10.0.0.1:2379,etcd-b:2379/fulcrum/api", options, error))
      << error;
  ASSERT_EQ(options.endpoints.size(), 2u);
  EXPECT_EQ(options.endpoints[1].host, "etcd-b");
  EXPECT_EQ(options.endpoints[1].port, 2379);
  EXPECT_EQ(options.key_prefix, "/fulcrum/api/");
  options.advertise = "10.0.0.5:8080";
  EXPECT_EQ(options.key(), "/fulcrum/api/10.0.0.5:8080");
  ASSERT_TRUE(parse_register_target("etcd://[::1]:2379/a/b/c/", options, error)) << error;
  EXPECT_EQ(options.key_prefix, "/a/b/c/");
  EXPECT_EQ(options.endpoints[0].host, "::1");

  for (const char* bad :
       {"http://127.0.0.1:2379/f/api", "etcd://127.0.0.1:2379", "etcd://127.0.0.1:2379/",
        "etcd://127.0.0.1/f/api", "etcd://127.0.0.1:2379//api", "etcd:///f/api"}) {
    EXPECT_FALSE(parse_register_target(bad, options, error)) << bad;
    EXPECT_NE(error.find(bad), std::string::npos) << error;
  }
}

TEST(RegisterTargetTest, AdvertiseAddress) {
  std::string error;
  EXPECT_EQ(parse_advertise_address("10.0.0.5:8080", error), "10.0.0.5:8080");
  EXPECT_EQ(parse_advertise_address("app.internal:80", error), "app.internal:80");
  EXPECT_EQ(parse_advertise_address("[::1]:80", error), "[::1]:80");
  for (const char* bad : {"10.0.0.5", "10.0.0.5:0", ":80", "::1:80", "10.0.0.5:99999"}) {
    EXPECT_FALSE(parse_advertise_address(bad, error)) << bad;
    EXPECT_NE(error.find("expected HOST:PORT"), std::string::npos) << error;
  }
}

TEST(EtcdAccessTest, TlsFlagsMakeEveryEndpointTls) {
  RegistrationOptions options;
  std::string error;
  ASSERT_TRUE(
      parse_register_target("etcd://10.0.0.1:2379,etcd-b:2379/fulcrum/api", options, error));
  ASSERT_TRUE(set_etcd_access({}, false, options, error)) << error;
  EXPECT_FALSE(options.endpoints[0].tls);
  ASSERT_TRUE(set_etcd_access({.ca_file = "/ca.pem"}, false, options, error)) << error;
  EXPECT_TRUE(options.endpoints[0].tls);
  EXPECT_TRUE(options.endpoints[1].tls);
  EXPECT_EQ(options.access.ca_file, "/ca.pem");
  ASSERT_TRUE(set_etcd_access({}, true, options, error)) << error;  // --etcd-tls alone
  EXPECT_TRUE(options.endpoints[1].tls);
}

TEST(EtcdAccessTest, ErrorsSayWhatGoesTogether) {
  RegistrationOptions options;
  std::string error;
  EXPECT_FALSE(set_etcd_access({.cert = "/c.pem"}, false, options, error));
  EXPECT_EQ(error, "--etcd-cert and --etcd-key go together (a client certificate and its key)");
  EXPECT_FALSE(set_etcd_access({.username = "root"}, false, options, error));
  EXPECT_EQ(error, "--etcd-username and --etcd-password-file go together");
  EXPECT_FALSE(set_etcd_access({.username = "root", .password_file = "/nonexistent/pw"}, false,
                               options, error));
  EXPECT_EQ(error, "--etcd-password-file: cannot read the etcd password file /nonexistent/pw");
}

}  // namespace
}  // namespace fulcrum::agent
