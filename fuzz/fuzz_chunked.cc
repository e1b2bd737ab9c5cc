// The chunked decoder alone, on arbitrary bytes (a body, then possibly the next message): fed in
// one piece, in pieces cut at points derived from the input, and one byte at a time, it must
// consume the same bytes, end or fail at the same place and pass on the same payload.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "fuzz/head_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fulcrum::fuzz;
  constexpr std::size_t kMaxDribbledBytes = 4096;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::vector<std::size_t>> schedules{split_points(size, hash_bytes(input)),
                                                  split_points(size, ~hash_bytes(input))};
  if (size <= kMaxDribbledBytes) schedules.push_back(byte_at_a_time(size));
  const BodyOutcome outcome = check_chunked(input, schedules);
  // A body that ended consumed at least "0\r\n\r\n"; one that failed stopped before the byte.
  if (outcome.done) check(outcome.consumed >= 5 && input.substr(outcome.consumed - 2, 2) == "\r\n");
  if (outcome.error) check(outcome.consumed < size);
  return 0;
}
