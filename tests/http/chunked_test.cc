#include "http/chunked.h"

#include <gtest/gtest.h>

#include <string>

namespace fulcrum::http {
namespace {

struct Decoded {
  std::string payload;
  std::size_t consumed = 0;
  std::size_t pieces = 0;
  bool done = false;
  bool error = false;
  std::string_view reason;
};

// Feeds `input` in pieces of at most `piece` bytes, as a socket would deliver them, stopping at
// the end of the body or at an error.
Decoded decode(std::string_view input, std::size_t piece = std::string_view::npos) {
  ChunkedDecoder decoder;
  Decoded d;
  const std::function<void(std::string_view)> sink = [&d](std::string_view data) {
    d.payload.append(data);
    ++d.pieces;
  };
  while (d.consumed < input.size()) {
    const std::string_view part = input.substr(d.consumed, piece);
    const ChunkedDecoder::Step step = decoder.feed(part, &sink);
    d.consumed += step.consumed;
    d.done = step.done;
    d.error = step.error;
    d.reason = step.error_reason;
    if (step.done || step.error) break;
    EXPECT_EQ(step.consumed, part.size()) << "a partial feed must consume everything";
  }
  return d;
}

TEST(ChunkedDecoder, DecodesASingleChunk) {
  const Decoded d = decode("5\r\nhello\r\n0\r\n\r\n");
  EXPECT_TRUE(d.done);
  EXPECT_FALSE(d.error);
  EXPECT_EQ(d.payload, "hello");
  EXPECT_EQ(d.consumed, 15u);
}

TEST(ChunkedDecoder, EmptyBody) {
  const Decoded d = decode("0\r\n\r\n");
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.payload, "");
  EXPECT_EQ(d.consumed, 5u);
}

TEST(ChunkedDecoder, HexSizesInEitherCaseAndLeadingZeros) {
  const std::string body = "a\r\n0123456789\r\nB\r\nabcdefghijk\r\n0001\r\nz\r\n000\r\n\r\n";
  const Decoded d = decode(body);
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.payload, "0123456789abcdefghijkz");
  EXPECT_EQ(d.consumed, body.size());
}

TEST(ChunkedDecoder, StopsAtTheEndOfTheBody) {
  const std::string body = "3\r\nabc\r\n0\r\n\r\n";
  const Decoded d = decode(body + "GET /next HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.consumed, body.size());
  EXPECT_EQ(d.payload, "abc");
}

TEST(ChunkedDecoder, AcceptsTrailers) {
  const std::string body = "3\r\nabc\r\n0\r\nX-Checksum: 1234\r\nX-Empty:\r\nX-B:  v w \r\n\r\n";
  const Decoded d = decode(body + "NEXT");
  EXPECT_TRUE(d.done) << d.reason;
  EXPECT_EQ(d.consumed, body.size());
}

TEST(ChunkedDecoder, AcceptsValidExtensions) {
  const std::string body =
      "5;name\r\nhello\r\n"
      "5 ; a=b ; c = \"q \\\" x\" ;d\r\nworld\r\n"
      "0;last=\"\"\r\n\r\n";
  const Decoded d = decode(body);
  EXPECT_TRUE(d.done) << d.reason;
  EXPECT_EQ(d.payload, "helloworld");
}

TEST(ChunkedDecoder, ByteByByteEqualsWhole) {
  const std::string body =
      "4;ext=1\r\nWiki\r\n"
      "6\r\npedia \r\n"
      "E\r\nin \r\n\r\nchunks.\r\n"
      "0\r\nTrailer: value\r\n\r\n";
  const Decoded whole = decode(body);
  ASSERT_TRUE(whole.done) << whole.reason;
  EXPECT_EQ(whole.payload, "Wikipedia in \r\n\r\nchunks.");
  for (std::size_t piece = 1; piece <= body.size(); ++piece) {
    const Decoded split = decode(body, piece);
    EXPECT_TRUE(split.done) << piece;
    EXPECT_EQ(split.payload, whole.payload) << piece;
    EXPECT_EQ(split.consumed, whole.consumed) << piece;
  }
}

TEST(ChunkedDecoder, DataIsPassedAsViewsIntoTheInput) {
  ChunkedDecoder decoder;
  const std::string body = "5\r\nhello\r\n0\r\n\r\n";
  std::string_view seen;
  const std::function<void(std::string_view)> sink = [&](std::string_view d) { seen = d; };
  decoder.feed(body, &sink);
  EXPECT_EQ(seen.data(), body.data() + 3);
  EXPECT_EQ(seen.size(), 5u);
}

TEST(ChunkedDecoder, ValidatesWithoutASink) {
  ChunkedDecoder decoder;
  const ChunkedDecoder::Step step = decoder.feed("5\r\nhello\r\n0\r\n\r\n");
  EXPECT_TRUE(step.done);
  EXPECT_EQ(decoder.payload_bytes(), 5u);
}

TEST(ChunkedDecoder, DoneAndErrorAreSticky) {
  ChunkedDecoder decoder;
  EXPECT_TRUE(decoder.feed("0\r\n\r\n").done);
  ChunkedDecoder::Step again = decoder.feed("5\r\nhello");
  EXPECT_TRUE(again.done);
  EXPECT_EQ(again.consumed, 0u);

  ChunkedDecoder bad;
  EXPECT_TRUE(bad.feed("x").error);
  again = bad.feed("5\r\nhello\r\n");
  EXPECT_TRUE(again.error);
  EXPECT_EQ(again.consumed, 0u);
  EXPECT_EQ(again.error_reason, "invalid chunk size");
}

TEST(ChunkedDecoder, ResetStartsANewBody) {
  ChunkedDecoder decoder;
  EXPECT_TRUE(decoder.feed("x").error);
  decoder.reset();
  const ChunkedDecoder::Step step = decoder.feed("1\r\na\r\n0\r\n\r\n");
  EXPECT_TRUE(step.done);
  EXPECT_EQ(decoder.payload_bytes(), 1u);
}

TEST(ChunkedDecoder, ErrorReportsBytesBeforeTheOffendingOne) {
  ChunkedDecoder decoder;
  const ChunkedDecoder::Step step = decoder.feed("5\r\nhelloXX");
  EXPECT_TRUE(step.error);
  EXPECT_EQ(step.consumed, 8u);
}

TEST(ChunkedDecoder, SixteenHexDigitsFit) {
  ChunkedDecoder decoder;
  const ChunkedDecoder::Step step = decoder.feed("ffffffffffffffff\r\nabc");
  EXPECT_FALSE(step.error);
  EXPECT_EQ(step.consumed, 21u);
}

TEST(ChunkedDecoder, LongExtensionsUpToTheLimitAreAccepted) {
  const std::string line = "1;" + std::string(ChunkedDecoder::kMaxSizeLineBytes - 4, 'e') + "\r\n";
  ASSERT_EQ(line.size(), ChunkedDecoder::kMaxSizeLineBytes);
  const Decoded d = decode(line + "a\r\n0\r\n\r\n");
  EXPECT_TRUE(d.done) << d.reason;
}

struct RejectCase {
  const char* name;
  std::string input;
  std::string_view reason;
};

class ChunkedReject : public ::testing::TestWithParam<RejectCase> {};

TEST_P(ChunkedReject, IsAnError) {
  // Whole and byte by byte must agree.
  for (const std::size_t piece : {std::string_view::npos, std::size_t{1}}) {
    const Decoded d = decode(GetParam().input, piece);
    EXPECT_TRUE(d.error) << piece;
    EXPECT_FALSE(d.done) << piece;
    EXPECT_EQ(d.reason, GetParam().reason) << piece;
  }
}

const RejectCase kRejects[] = {
    {"NonHexSize", "g\r\n", "invalid chunk size"},
    {"EmptySize", "\r\nabc\r\n", "invalid chunk size"},
    {"NegativeSize", "-5\r\nhello\r\n", "invalid chunk size"},
    {"PlusSign", "+5\r\nhello\r\n", "invalid chunk size"},
    {"HexPrefix", "0x5\r\nhello\r\n", "invalid chunk size"},
    {"LeadingSpace", " 5\r\nhello\r\n", "invalid chunk size"},
    {"SeventeenDigits", "00000000000000005\r\nhello\r\n0\r\n\r\n", "chunk size too long"},
    {"OverflowingSize", "10000000000000000\r\n", "chunk size too long"},
    {"BareLfAfterSize", "5\nhello\r\n", "invalid chunk size"},
    {"BareCrAfterSize", "5\rhello\r\n", "bare CR in chunk size line"},
    {"TrailingSpaceAfterSize", "5 \r\nhello\r\n", "invalid chunk extension"},
    {"EmptyExtension", "5;\r\nhello\r\n", "invalid chunk extension"},
    {"ExtensionWithoutValue", "5;a=\r\nhello\r\n", "invalid chunk extension"},
    {"ExtensionNameWithSpace", "5;a b\r\nhello\r\n", "invalid chunk extension"},
    {"ExtensionSeparatorInValue", "5;a=b/c\r\nhello\r\n", "invalid chunk extension"},
    {"ExtensionUnterminatedQuote", "5;a=\"x\r\nhello\r\n", "invalid chunk extension"},
    {"ExtensionControlInQuote", "5;a=\"x\x01\"\r\nhello\r\n", "invalid chunk extension"},
    {"ExtensionTrailingSpace", "5;a=b \r\nhello\r\n", "invalid chunk extension"},
    {"ExtensionTooLong",
     "1;" + std::string(ChunkedDecoder::kMaxSizeLineBytes, 'e') + "\r\na\r\n0\r\n\r\n",
     "chunk size line too long"},
    {"DataTooLong", "5\r\nhelloX\r\n0\r\n\r\n", "missing CRLF after chunk data"},
    {"DataTooShort", "5\r\nhell\r\n0\r\n\r\n", "missing CRLF after chunk data"},
    {"LfOnlyAfterData", "5\r\nhello\n0\r\n\r\n", "missing CRLF after chunk data"},
    {"CrOnlyAfterData", "5\r\nhello\r0\r\n\r\n", "missing CRLF after chunk data"},
    {"TrailerObsFold", "0\r\nX-A: b\r\n c\r\n\r\n", "obsolete line folding in trailer"},
    {"TrailerInvalidName", "0\r\nX(A): b\r\n\r\n", "invalid trailer field"},
    {"TrailerWithoutColon", "0\r\nX-A\r\n\r\n", "invalid trailer field"},
    {"TrailerWhitespaceBeforeColon", "0\r\nX-A : b\r\n\r\n", "whitespace before colon in trailer"},
    {"TrailerControlInValue", "0\r\nX-A: b\x01\r\n\r\n", "invalid character in trailer value"},
    {"TrailerBareLf", "0\r\nX-A: b\n\r\n", "invalid character in trailer value"},
    {"TrailerBareCr", "0\r\nX-A: b\rc\r\n\r\n", "bare CR in trailer"},
    {"FinalBareCr", "0\r\n\rX", "bare CR at end of chunked body"},
    {"FinalBareLf", "0\r\n\n", "invalid trailer field"},
    {"TrailerTooLarge",
     "0\r\nX-Pad: " + std::string(ChunkedDecoder::kMaxTrailerBytes, 'p') + "\r\n\r\n",
     "trailer section too large"},
};

INSTANTIATE_TEST_SUITE_P(Rules, ChunkedReject, ::testing::ValuesIn(kRejects),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace fulcrum::http
