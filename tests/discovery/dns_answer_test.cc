#include "discovery/dns_answer.h"

#include <gtest/gtest.h>

#include <string_view>

namespace fulcrum::discovery {
namespace {

// A DNS message written by hand, as a resolver sends it.
class Message {
 public:
  Message(uint16_t questions, uint16_t answers) {
    bytes_ = {0x12, 0x34, 0x81, 0x80};  // id, standard response, no error
    u16(questions);
    u16(answers);
    u16(0);
    u16(0);
  }
  void name(std::string_view dotted) {
    while (!dotted.empty()) {
      const std::size_t dot = dotted.find('.');
      const std::string_view label = dotted.substr(0, dot);
      bytes_.push_back(static_cast<unsigned char>(label.size()));
      bytes_.insert(bytes_.end(), label.begin(), label.end());
      dotted = dot == std::string_view::npos ? std::string_view() : dotted.substr(dot + 1);
    }
    bytes_.push_back(0);
  }
  void pointer(uint16_t offset) { u16(static_cast<uint16_t>(0xC000 | offset)); }
  void u16(uint16_t v) {
    bytes_.push_back(static_cast<unsigned char>(v >> 8));
    bytes_.push_back(static_cast<unsigned char>(v));
  }
  void u32(uint32_t v) {
    u16(static_cast<uint16_t>(v >> 16));
    u16(static_cast<uint16_t>(v));
  }
  // An SRV record for the question's name (compressed), target written by `write_target`.
  template <typename Target>
  void srv(uint32_t ttl, uint16_t priority, uint16_t weight, uint16_t port, Target write_target) {
    pointer(12);
    u16(33);
    u16(1);
    u32(ttl);
    const std::size_t length_at = bytes_.size();
    u16(0);
    const std::size_t start = bytes_.size();
    u16(priority);
    u16(weight);
    u16(port);
    write_target();
    const std::size_t length = bytes_.size() - start;
    bytes_[length_at] = static_cast<unsigned char>(length >> 8);
    bytes_[length_at + 1] = static_cast<unsigned char>(length);
  }
  std::size_t size() const { return bytes_.size(); }
  std::span<const unsigned char> span() const { return bytes_; }

 private:
  std::vector<unsigned char> bytes_;
};

TEST(DnsAnswer, SrvRecordsWithTheirTtlsAndCompressedTargets) {
  Message m(1, 3);
  m.name("_http._tcp.api.internal");
  m.u16(33);
  m.u16(1);
  std::size_t first_target = 0;
  m.srv(30, 10, 5, 8080, [&] {
    first_target = m.size();
    m.name("A.api.internal");
  });
  // An A record in the answer section (some servers add them) is skipped.
  m.pointer(static_cast<uint16_t>(first_target));
  m.u16(1);
  m.u16(1);
  m.u32(30);
  m.u16(4);
  m.u32(0x7f000001);
  m.srv(7, 20, 0, 8081, [&] { m.pointer(static_cast<uint16_t>(first_target)); });

  std::string error;
  const auto records = parse_srv_answer(m.span(), &error);
  ASSERT_TRUE(records) << error;
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].target, "a.api.internal");  // lower-cased, no trailing dot
  EXPECT_EQ((*records)[0].priority, 10);
  EXPECT_EQ((*records)[0].weight, 5);
  EXPECT_EQ((*records)[0].port, 8080);
  EXPECT_EQ((*records)[0].ttl_seconds, 30u);
  EXPECT_EQ((*records)[1].target, "a.api.internal");
  EXPECT_EQ((*records)[1].ttl_seconds, 7u);
  EXPECT_EQ((*records)[1].port, 8081);
}

TEST(DnsAnswer, TruncatedMessagesAreErrors) {
  Message m(1, 1);
  m.name("_http._tcp.api.internal");
  m.u16(33);
  m.u16(1);
  m.srv(30, 1, 1, 80, [&] { m.name("a.internal"); });
  for (std::size_t cut : {std::size_t{5}, std::size_t{20}, m.size() - 3}) {
    std::string error;
    EXPECT_FALSE(parse_srv_answer(m.span().first(cut), &error)) << cut;
    EXPECT_FALSE(error.empty());
  }
}

TEST(DnsAnswer, RootTargetMeansNoService) {
  Message m(1, 1);
  m.name("_http._tcp.api.internal");
  m.u16(33);
  m.u16(1);
  m.srv(30, 0, 0, 0, [&] { m.name(""); });
  std::string error;
  const auto records = parse_srv_answer(m.span(), &error);
  ASSERT_TRUE(records) << error;
  EXPECT_TRUE(records->empty());
}

}  // namespace
}  // namespace fulcrum::discovery
