// Who may call what: the rules of auth.h, then over real sockets on a non-loopback listener
// (every endpoint refuses without the token, and each refusal is logged) and on loopback.
#include "admin/auth.h"

#include "tests/admin/admin_fixture.h"

namespace fulcrum::admin::testing {
namespace {

Request call(std::string authorization) {
  return Request{.method = "GET",
                 .path = "/",
                 .authorization = std::move(authorization),
                 .peer = "10.0.0.1:5000"};
}

TEST(Auth, LoopbackWithTokenLetsReadsThroughAndNeedsTheTokenForChanges) {
  const Auth auth("s3cret", /*loopback_listener=*/true);
  EXPECT_TRUE(auth.check(call(""), false).allowed);
  EXPECT_EQ(auth.check(call(""), false).origin, "10.0.0.1:5000 (loopback)");
  EXPECT_FALSE(auth.check(call(""), true).allowed);
  EXPECT_EQ(auth.check(call(""), true).refusal, "missing Authorization: Bearer token");
  const Caller caller = auth.check(call("Bearer s3cret"), true);
  EXPECT_TRUE(caller.allowed);
  EXPECT_EQ(caller.origin, "10.0.0.1:5000 (token)");
  EXPECT_TRUE(auth.check(call("bearer s3cret"), true).allowed) << "the scheme is case-insensitive";
}

TEST(Auth, ElsewhereEveryCallNeedsTheToken) {
  const Auth auth("s3cret", false);
  EXPECT_FALSE(auth.check(call(""), false).allowed);
  EXPECT_TRUE(auth.check(call("Bearer s3cret"), false).allowed);
}

TEST(Auth, AWrongOrMalformedTokenIsRefusedEvenWhereNoneIsNeeded) {
  const Auth auth("s3cret", true);
  EXPECT_EQ(auth.check(call("Bearer s3cre"), false).refusal, "wrong token");
  EXPECT_EQ(auth.check(call("Bearer s3cret2"), false).refusal, "wrong token");
  EXPECT_EQ(auth.check(call("Basic czNjcmV0"), false).refusal,
            "Authorization header is not 'Bearer <token>'");
  const Auth open("", true);
  EXPECT_TRUE(open.check(call(""), true).allowed);
  EXPECT_EQ(open.check(call("Bearer x"), true).refusal, "a token was sent but none is configured");
}

TEST(Auth, ComparesWholeStrings) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_FALSE(constant_time_equal("", "a"));
  EXPECT_TRUE(constant_time_equal("", ""));
}

struct Endpoint {
  const char* method;
  const char* target;
  const char* body;
};

constexpr Endpoint kEndpoints[] = {
    {"GET", "/api/v1/clusters", ""},
    {"GET", "/api/v1/clusters/web", ""},
    {"GET", "/api/v1/clusters/web/servers/127.0.0.1:9001", ""},
    {"POST", "/api/v1/clusters/web/servers", R"({"address": "127.0.0.1:9009"})"},
    {"PATCH", "/api/v1/clusters/web/servers/127.0.0.1:9001", R"({"weight": 4})"},
    {"DELETE", "/api/v1/clusters/web/servers/127.0.0.1:9002", ""},
    {"GET", "/api/v1/explain?listener=web", ""},
    {"GET", "/metrics", ""},
};

TEST_F(AdminTest, OffLoopbackEveryEndpointRefusesWithoutTheTokenAndLogsIt) {
  start("{ listen: 0.0.0.0:0, token_file: " + token_file("t0ken-123") + " }");
  for (const Endpoint& e : kEndpoints) {
    for (const char* token : {"", "wrong"}) {
      const Reply reply = request(port_, e.method, e.target, e.body, token);
      EXPECT_EQ(reply.status, 401) << e.method << " " << e.target << " token '" << token << "'";
      EXPECT_EQ(reply.header("www-authenticate"), "Bearer realm=\"fulcrum\"");
      EXPECT_TRUE(logged(std::string("admin: 401 for ") + e.method + " " +
                         std::string(e.target).substr(0, std::string(e.target).find('?')) +
                         " from 127.0.0.1:"))
          << e.target;
    }
  }
  EXPECT_EQ(cluster("web").snapshot()->servers.size(), 3u) << "nothing changed";
  for (const Endpoint& e : kEndpoints) {
    const Reply reply = request(port_, e.method, e.target, e.body, "t0ken-123");
    EXPECT_LT(reply.status, 300) << e.method << " " << e.target << ": " << reply.body;
  }
  EXPECT_TRUE(logged("by 127.0.0.1:"));
  EXPECT_TRUE(logged("(token)"));
  // The status page shell carries no data and loads without the token.
  EXPECT_EQ(request(port_, "GET", "/").status, 200);
}

TEST_F(AdminTest, OnLoopbackReadsAreOpenAndChangesNeedTheToken) {
  start("{ listen: 127.0.0.1:0, token_file: " + token_file("t0ken-123") + " }");
  EXPECT_EQ(request(port_, "GET", "/api/v1/clusters").status, 200);
  EXPECT_EQ(request(port_, "GET", "/metrics").status, 200);
  EXPECT_EQ(request(port_, "PATCH", "/api/v1/clusters/web/servers/127.0.0.1:9001",
                    R"({"state": "drain"})")
                .status,
            401);
  EXPECT_EQ(state("web", "127.0.0.1:9001")->admin_state.load(), core::AdminState::kEnabled);
  EXPECT_EQ(request(port_, "PATCH", "/api/v1/clusters/web/servers/127.0.0.1:9001",
                    R"({"state": "drain"})", "t0ken-123")
                .status,
            200);
  EXPECT_EQ(state("web", "127.0.0.1:9001")->admin_state.load(), core::AdminState::kDraining);
}

}  // namespace
}  // namespace fulcrum::admin::testing
