#include "http/body_framing.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace fulcrum::http {
namespace {

// What a reader of one body saw: the bytes it would relay and the payload it would keep.
struct Read {
  std::string relayed;  // The body bytes as received, chunk framing included.
  std::string payload;
  std::vector<std::string> pieces;  // Payload pieces in the order the sink got them.
  std::size_t feeds_after_done = 0;
  bool done = false;
  bool error = false;
  std::string_view reason;
};

// Feeds `input` cut at each of `cuts` (increasing offsets), as a socket would deliver it, and
// stops at the end of the body or at an error, as the callers do.
Read read_body(Framing framing, uint64_t length, std::string_view input,
               const std::vector<std::size_t>& cuts = {}) {
  BodyFraming body;
  body.start(framing, length);
  Read r;
  const BodyFraming::PayloadSink sink = [&r](std::string_view data) {
    EXPECT_FALSE(data.empty());
    r.payload.append(data);
    r.pieces.emplace_back(data);
  };
  std::size_t from = 0;
  std::vector<std::size_t> ends = cuts;
  ends.push_back(input.size());
  for (const std::size_t end : ends) {
    const std::string_view part = input.substr(from, end - from);
    from = end;
    const BodyFraming::Step step = body.feed(part, &sink);
    EXPECT_LE(step.body, part.size());
    EXPECT_EQ(step.done, body.done());
    r.relayed.append(part.substr(0, step.body));
    r.done = step.done;
    r.error = step.error;
    r.reason = step.error_reason;
    if (step.done || step.error) break;
    EXPECT_EQ(step.body, part.size()) << "a body that goes on takes every byte";
  }
  return r;
}

Read read_chunked(std::string_view input, const std::vector<std::size_t>& cuts = {}) {
  return read_body(Framing::kChunked, 0, input, cuts);
}

// Every way of cutting `input` in two, then in pieces of every size.
std::vector<std::vector<std::size_t>> cuttings(std::size_t size) {
  std::vector<std::vector<std::size_t>> all;
  for (std::size_t at = 0; at <= size; ++at) all.push_back({at});
  for (std::size_t piece = 1; piece < size; ++piece) {
    std::vector<std::size_t> cuts;
    for (std::size_t at = piece; at < size; at += piece) cuts.push_back(at);
    all.push_back(std::move(cuts));
  }
  return all;
}

std::string describe(const std::vector<std::size_t>& cuts) {
  std::string text = "cut at";
  for (const std::size_t at : cuts) text += " " + std::to_string(at);
  return text;
}

TEST(BodyFraming, NoBodyIsDoneAtOnceAndTakesNothing) {
  BodyFraming body;
  body.start(Framing::kNone, 0);
  EXPECT_TRUE(body.done());
  const BodyFraming::Step step = body.feed("GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(step.body, 0u);
  EXPECT_TRUE(step.done);
}

TEST(BodyFraming, ContentLengthTakesExactlyTheLength) {
  const Read r = read_body(Framing::kContentLength, 5, "helloGET /next");
  EXPECT_TRUE(r.done);
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.relayed, "hello");
  EXPECT_EQ(r.payload, "hello");
}

TEST(BodyFraming, ZeroContentLengthIsDoneAtOnce) {
  BodyFraming body;
  body.start(Framing::kContentLength, 0);
  EXPECT_TRUE(body.done());
  const BodyFraming::Step step = body.feed("next");
  EXPECT_EQ(step.body, 0u);
  EXPECT_TRUE(step.done);
}

TEST(BodyFraming, ContentLengthSplitAnywhereEndsAtTheSameByte) {
  const std::string input = "0123456789NEXT";
  for (const auto& cuts : cuttings(input.size())) {
    const Read r = read_body(Framing::kContentLength, 10, input, cuts);
    EXPECT_TRUE(r.done) << describe(cuts);
    EXPECT_EQ(r.relayed, "0123456789") << describe(cuts);
    EXPECT_EQ(r.payload, "0123456789") << describe(cuts);
  }
}

TEST(BodyFraming, ReadsNeverAskPastTheContentLength) {
  BodyFraming body;
  body.start(Framing::kContentLength, 20'000);
  EXPECT_EQ(body.want(16 * 1024), 16u * 1024);
  body.feed(std::string(16 * 1024, 'a'));
  EXPECT_EQ(body.want(16 * 1024), 20'000u - 16 * 1024);
  body.feed(std::string(20'000 - 16 * 1024, 'a'));
  EXPECT_EQ(body.want(16 * 1024), 0u);
  EXPECT_TRUE(body.done());
}

TEST(BodyFraming, OnlyContentLengthLimitsReads) {
  BodyFraming body;
  body.start(Framing::kChunked, 0);
  EXPECT_EQ(body.want(4096), 4096u);
  body.start(Framing::kUntilClose, 0);
  EXPECT_EQ(body.want(4096), 4096u);
}

TEST(BodyFraming, UntilCloseTakesEverythingUntilTheSenderCloses) {
  BodyFraming body;
  body.start(Framing::kUntilClose, 0);
  EXPECT_FALSE(body.done());
  std::string payload;
  const BodyFraming::PayloadSink sink = [&](std::string_view d) { payload.append(d); };
  const BodyFraming::Step step = body.feed("all of it\r\n0\r\n\r\n", &sink);
  EXPECT_EQ(step.body, 16u);
  EXPECT_FALSE(step.done);
  EXPECT_EQ(payload, "all of it\r\n0\r\n\r\n");
  EXPECT_TRUE(body.end_at_close());
  EXPECT_TRUE(body.done());
  EXPECT_EQ(body.feed("late").body, 0u);
}

TEST(BodyFraming, CloseTruncatesAnyOtherBody) {
  for (const Framing framing : {Framing::kContentLength, Framing::kChunked}) {
    BodyFraming body;
    body.start(framing, 10);
    body.feed(framing == Framing::kChunked ? "a\r\nhel" : "hel");
    EXPECT_FALSE(body.end_at_close());
    EXPECT_FALSE(body.done());
  }
}

TEST(BodyFraming, ChunkedRelaysFramingAndHandsOutPayload) {
  const std::string body = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  const Read r = read_chunked(body + "GET /next HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(r.done) << r.reason;
  EXPECT_EQ(r.relayed, body);
  EXPECT_EQ(r.payload, "hello world");
}

TEST(BodyFraming, ChunkBoundariesReachTheSink) {
  const std::string body = "3\r\nabc\r\n1\r\nd\r\n2\r\nef\r\n0\r\n\r\n";
  const Read r = read_chunked(body);
  EXPECT_EQ(r.pieces, (std::vector<std::string>{"abc", "d", "ef"}));
}

TEST(BodyFraming, PayloadIsViewsIntoTheInput) {
  BodyFraming body;
  body.start(Framing::kChunked, 0);
  const std::string input = "5\r\nhello\r\n0\r\n\r\n";
  std::string_view seen;
  const BodyFraming::PayloadSink sink = [&](std::string_view d) { seen = d; };
  body.feed(input, &sink);
  EXPECT_EQ(seen.data(), input.data() + 3);
  EXPECT_EQ(seen.size(), 5u);
}

TEST(BodyFraming, ChunkedWithExtensionsAndTrailersSplitAnywhere) {
  const std::string body =
      "4;ext=1\r\nWiki\r\n"
      "6 ; a=b ; c = \"q \\\" x\" ;d\r\npedia \r\n"
      "E\r\nin \r\n\r\nchunks.\r\n"
      "0;last=\"\"\r\nX-Checksum: 1234\r\nX-Empty:\r\n\r\n";
  const std::string input = body + "NEXT";
  for (const auto& cuts : cuttings(input.size())) {
    const Read r = read_chunked(input, cuts);
    ASSERT_TRUE(r.done) << describe(cuts) << ": " << r.reason;
    EXPECT_EQ(r.relayed, body) << describe(cuts);
    EXPECT_EQ(r.payload, "Wikipedia in \r\n\r\nchunks.") << describe(cuts);
  }
}

TEST(BodyFraming, EndIsReportedByTheFeedThatReachesIt) {
  const std::string body = "1\r\na\r\n0\r\n\r\n";
  for (std::size_t at = 0; at < body.size(); ++at) {
    BodyFraming framing;
    framing.start(Framing::kChunked, 0);
    EXPECT_FALSE(framing.feed(std::string_view(body).substr(0, at)).done) << at;
    const BodyFraming::Step last = framing.feed(std::string_view(body).substr(at));
    EXPECT_TRUE(last.done) << at;
    EXPECT_EQ(last.body, body.size() - at) << at;
  }
}

TEST(BodyFraming, SixteenHexDigitsAreAcceptedAndTheirDataRelayed) {
  // The largest size there is: the body goes on for as long as data comes.
  const std::string input = "ffffffffffffffff\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n";
  const Read r = read_chunked(input);
  EXPECT_FALSE(r.error) << r.reason;
  EXPECT_FALSE(r.done);
  EXPECT_EQ(r.relayed, input);
  EXPECT_EQ(r.payload, input.substr(18));
}

TEST(BodyFraming, ErrorsAreStickyAndStartResets) {
  BodyFraming body;
  body.start(Framing::kChunked, 0);
  EXPECT_TRUE(body.feed("x").error);
  const BodyFraming::Step again = body.feed("1\r\na\r\n0\r\n\r\n");
  EXPECT_TRUE(again.error);
  EXPECT_EQ(again.body, 0u);
  body.start(Framing::kChunked, 0);
  EXPECT_TRUE(body.feed("1\r\na\r\n0\r\n\r\n").done);
}

TEST(BodyFraming, NothingIsTakenAfterTheEnd) {
  BodyFraming body;
  body.start(Framing::kChunked, 0);
  EXPECT_TRUE(body.feed("0\r\n\r\n").done);
  const BodyFraming::Step after = body.feed("5\r\nhello\r\n");
  EXPECT_TRUE(after.done);
  EXPECT_EQ(after.body, 0u);
}

struct Malformed {
  const char* name;
  std::string input;
  std::size_t body_before_error;  // Bytes relayed before the offending one.
  std::string_view reason;
};

class BodyFramingRejects : public ::testing::TestWithParam<Malformed> {};

TEST_P(BodyFramingRejects, AtTheSameByteHoweverCut) {
  const Malformed& m = GetParam();
  for (const auto& cuts : cuttings(m.input.size())) {
    const Read r = read_chunked(m.input, cuts);
    EXPECT_TRUE(r.error) << describe(cuts);
    EXPECT_FALSE(r.done) << describe(cuts);
    EXPECT_EQ(r.reason, m.reason) << describe(cuts);
    EXPECT_EQ(r.relayed, m.input.substr(0, m.body_before_error)) << describe(cuts);
  }
}

const Malformed kMalformed[] = {
    {"EmptySize", "\r\nabc\r\n", 0, "invalid chunk size"},
    {"NonHexSize", "5\r\nhello\r\ng\r\n", 10, "invalid chunk size"},
    {"NegativeSize", "-5\r\nhello\r\n", 0, "invalid chunk size"},
    {"PlusSign", "+5\r\nhello\r\n", 0, "invalid chunk size"},
    {"HexPrefix", "0x5\r\nhello\r\n", 1, "invalid chunk size"},
    {"LeadingSpace", " 5\r\nhello\r\n", 0, "invalid chunk size"},
    {"BareLfAfterSize", "5\nhello\r\n", 1, "invalid chunk size"},
    {"BareCrAfterSize", "5\rhello\r\n", 2, "bare CR in chunk size line"},
    {"SpaceThenData", "5 \r\nhello\r\n", 2, "invalid chunk extension"},
    {"SeventeenDigits", "00000000000000005\r\nhello\r\n0\r\n\r\n", 16, "chunk size too long"},
    {"OverflowingSize", "10000000000000000\r\n", 16, "chunk size too long"},
    {"OverflowAfterAChunk", "1\r\na\r\nfffffffffffffffff\r\n", 22, "chunk size too long"},
    {"DataLongerThanItsSize", "5\r\nhelloX\r\n0\r\n\r\n", 8, "missing CRLF after chunk data"},
    {"DataShorterThanItsSize", "5\r\nhell\r\n0\r\n\r\n", 8, "missing CRLF after chunk data"},
    {"BadTrailer", "0\r\nX-A : b\r\n\r\n", 6, "whitespace before colon in trailer"},
};

INSTANTIATE_TEST_SUITE_P(Sizes, BodyFramingRejects, ::testing::ValuesIn(kMalformed),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(BodyFraming, SizeLineLongerThanTheLimitIsRejected) {
  const std::string input =
      "1;" + std::string(ChunkedDecoder::kMaxSizeLineBytes, 'e') + "\r\na\r\n0\r\n\r\n";
  const Read r = read_chunked(input);
  EXPECT_TRUE(r.error);
  EXPECT_EQ(r.reason, "chunk size line too long");
  EXPECT_EQ(r.relayed.size(), ChunkedDecoder::kMaxSizeLineBytes);
}

}  // namespace
}  // namespace fulcrum::http
