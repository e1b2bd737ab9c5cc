#include "discovery/dns_answer.h"

#include <ares.h>
#include <arpa/nameser.h>

#include <cctype>

namespace fulcrum::discovery {
namespace {

constexpr std::size_t kHeaderSize = 12;
constexpr uint16_t kTypeSrv = 33;
constexpr uint16_t kClassIn = 1;

uint16_t read16(const unsigned char* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t read32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}

// Expands the (possibly compressed) name at `at`; advances `at` past it.
bool read_name(std::span<const unsigned char> message, const unsigned char*& at,
               std::string* name) {
  char* expanded = nullptr;
  long length = 0;
  if (ares_expand_name(at, message.data(), static_cast<int>(message.size()), &expanded, &length) !=
      ARES_SUCCESS) {
    return false;
  }
  if (name) {
    *name = expanded;
    for (char& c : *name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!name->empty() && name->back() == '.') name->pop_back();
  }
  ares_free_string(expanded);
  at += length;
  return true;
}

}  // namespace

std::optional<std::vector<SrvRecord>> parse_srv_answer(std::span<const unsigned char> message,
                                                       std::string* error) {
  auto fail = [&](const char* what) -> std::optional<std::vector<SrvRecord>> {
    *error = what;
    return std::nullopt;
  };
  if (message.size() < kHeaderSize) return fail("truncated header");
  const unsigned char* const end = message.data() + message.size();
  const uint16_t questions = read16(message.data() + 4);
  const uint16_t answers = read16(message.data() + 6);
  const unsigned char* at = message.data() + kHeaderSize;
  for (uint16_t i = 0; i < questions; ++i) {
    if (!read_name(message, at, nullptr) || end - at < 4) return fail("truncated question");
    at += 4;
  }
  std::vector<SrvRecord> records;
  for (uint16_t i = 0; i < answers; ++i) {
    if (!read_name(message, at, nullptr) || end - at < 10) return fail("truncated answer");
    const uint16_t type = read16(at);
    const uint16_t klass = read16(at + 2);
    const uint32_t ttl = read32(at + 4);
    const uint16_t length = read16(at + 8);
    at += 10;
    if (end - at < length) return fail("truncated record data");
    const unsigned char* const next = at + length;
    // A CNAME in front of the SRV records is allowed; only the SRV records matter.
    if (type == kTypeSrv && klass == kClassIn) {
      if (length < 7) return fail("short SRV record");
      SrvRecord record;
      record.priority = read16(at);
      record.weight = read16(at + 2);
      record.port = read16(at + 4);
      record.ttl_seconds = ttl;
      const unsigned char* target = at + 6;
      if (!read_name(message, target, &record.target)) return fail("bad SRV target");
      // "." as the only target means "no service here" (RFC 2782).
      if (!record.target.empty()) records.push_back(std::move(record));
    }
    at = next;
  }
  return records;
}

}  // namespace fulcrum::discovery
