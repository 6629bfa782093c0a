// FrameDecoder: both framings, detection, split reads, resync after garbage, the size and
// depth limits, bad Content-Length values.
#include "protocol/framing.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace cordon::protocol {
namespace {

using Kind = Frame::Kind;

std::vector<Frame> Drain(FrameDecoder& d) {
  std::vector<Frame> out;
  while (auto f = d.Next()) out.push_back(std::move(*f));
  return out;
}

std::vector<Frame> FeedAll(FrameDecoder& d, std::string_view bytes, bool finish = false) {
  d.Feed(bytes);
  if (finish) d.Finish();
  return Drain(d);
}

std::vector<Frame> FeedByteByByte(FrameDecoder& d, std::string_view bytes) {
  std::vector<Frame> out;
  for (char c : bytes) {
    d.Feed(std::string_view(&c, 1));
    for (auto& f : Drain(d)) out.push_back(std::move(f));
  }
  return out;
}

std::string Cl(std::string_view body) { return EncodeFrame(Framing::kContentLength, body); }

TEST(FramingTest, DetectsNdjson) {
  FrameDecoder d;
  auto frames = FeedAll(d, "{\"a\":1}\n{\"b\":2}\n");
  EXPECT_EQ(d.framing(), Framing::kNdjson);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].kind, Kind::kMessage);
  EXPECT_EQ(frames[0].body, "{\"a\":1}");
  EXPECT_EQ(frames[1].body, "{\"b\":2}");
}

TEST(FramingTest, DetectsContentLength) {
  FrameDecoder d;
  auto frames = FeedAll(d, Cl("{\"a\":1}") + Cl("[1,2]"));
  EXPECT_EQ(d.framing(), Framing::kContentLength);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].body, "{\"a\":1}");
  EXPECT_EQ(frames[1].body, "[1,2]");
}

TEST(FramingTest, HeaderNameIsCaseInsensitiveAndOtherHeadersAreIgnored) {
  FrameDecoder d;
  std::string in = "content-length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}";
  in += "Content-Type: application/json\r\nContent-Length: 3\r\n\r\n[1]";
  auto frames = FeedAll(d, in);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].kind, Kind::kMessage);
  EXPECT_EQ(frames[0].body, "{}");
  EXPECT_EQ(frames[1].kind, Kind::kMessage);
  EXPECT_EQ(frames[1].body, "[1]");
}

TEST(FramingTest, StreamOpeningWithContentTypeIsContentLength) {
  FrameDecoder d;
  auto frames = FeedAll(d, "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(d.framing(), Framing::kContentLength);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].kind, Kind::kMessage);
  EXPECT_EQ(frames[0].body, "{}");
}

TEST(FramingTest, BareLfHeaderTerminatorIsAccepted) {
  FrameDecoder d;
  auto frames = FeedAll(d, "Content-Length: 2\n\n{}");
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].body, "{}");
}

TEST(FramingTest, LfTerminatorIsNotConfusedWithCrlfInsideALaterBody) {
  FrameDecoder d;
  // The first header ends with "\n\n"; a "\r\n\r\n" appears later inside the body.
  std::string body = "{\"s\":\"x\"}\r\n\r\n";
  auto frames = FeedAll(d, "Content-Length: " + std::to_string(body.size()) + "\n\n" + body);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].body, body);
}

TEST(FramingTest, NdjsonSplitByteByByte) {
  FrameDecoder d;
  auto frames = FeedByteByByte(d, "{\"id\":1}\n\n  \n{\"id\":2}\n");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].body, "{\"id\":1}");
  EXPECT_EQ(frames[1].body, "{\"id\":2}");
}

TEST(FramingTest, ContentLengthSplitByteByByte) {
  FrameDecoder d;
  auto frames = FeedByteByByte(d, Cl("{\"id\":1}") + "\r\n" + Cl("{\"id\":2}"));
  EXPECT_EQ(d.framing(), Framing::kContentLength);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].body, "{\"id\":1}");
  EXPECT_EQ(frames[1].body, "{\"id\":2}");
}

TEST(FramingTest, PartialHeaderPrefixWaitsForMoreBytes) {
  FrameDecoder d;
  d.Feed("Conte");
  EXPECT_EQ(d.framing(), Framing::kUnknown);
  d.Feed("nt-Length: 2\r\n\r\n{}");
  EXPECT_EQ(d.framing(), Framing::kContentLength);
  auto frames = Drain(d);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].body, "{}");
}

TEST(FramingTest, CrlfLineEndsInNdjson) {
  FrameDecoder d;
  auto frames = FeedAll(d, "{\"a\":1}\r\n{\"b\":2}\r\n");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].body, "{\"a\":1}");
  EXPECT_EQ(frames[1].body, "{\"b\":2}");
}

TEST(FramingTest, NdjsonFinalLineWithoutNewlineCountsAtEof) {
  FrameDecoder d;
  auto frames = FeedAll(d, "{\"a\":1}\n{\"b\":2}", /*finish=*/true);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1].body, "{\"b\":2}");
}

TEST(FramingTest, NdjsonGarbageThenValid) {
  FrameDecoder d;
  // Garbage is a line like any other: the dispatcher answers it with a parse error.
  auto frames = FeedAll(d, "\x01\x02 not json at all\n{\"ok\":true}\n");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].kind, Kind::kMessage);
  EXPECT_EQ(frames[1].kind, Kind::kMessage);
  EXPECT_EQ(frames[1].body, "{\"ok\":true}");
}

TEST(FramingTest, ContentLengthGarbageBetweenFramesIsReportedOnceAndSkipped) {
  FrameDecoder d;
  auto frames = FeedAll(d, Cl("{}") + "@@ garbage @@" + Cl("{\"x\":1}"));
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].kind, Kind::kMessage);
  EXPECT_EQ(frames[1].kind, Kind::kBadHeader);
  EXPECT_EQ(frames[2].kind, Kind::kMessage);
  EXPECT_EQ(frames[2].body, "{\"x\":1}");
}

TEST(FramingTest, ContentLengthEndlessGarbageStaysBounded) {
  FrameDecoder d;
  d.Feed(Cl("{}"));
  std::string junk(4096, 'z');
  size_t errors = 0;
  for (int i = 0; i < 64; ++i) {
    d.Feed(junk);
    EXPECT_LT(d.buffered(), 3 * junk.size() + 8192);
    for (auto& f : Drain(d)) errors += f.kind == Kind::kBadHeader;
  }
  EXPECT_GT(errors, 0u);
  d.Feed(Cl("{\"after\":1}"));
  auto frames = Drain(d);
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames.back().kind, Kind::kMessage);
  EXPECT_EQ(frames.back().body, "{\"after\":1}");
}

TEST(FramingTest, NdjsonMessageOverLimitIsSkippedAndStreamResyncs) {
  FrameLimits limits;
  limits.max_message_bytes = 1024;
  FrameDecoder d(limits);
  std::string big = "{\"pad\":\"" + std::string(5000, 'a') + "\"}\n";
  std::vector<Frame> frames;
  // Arrives in chunks so the decoder must give up before seeing the newline.
  for (size_t i = 0; i < big.size(); i += 700) {
    d.Feed(std::string_view(big).substr(i, 700));
    EXPECT_LE(d.buffered(), limits.max_message_bytes + 700);
    for (auto& f : Drain(d)) frames.push_back(std::move(f));
  }
  for (auto& f : FeedAll(d, "{\"next\":1}\n")) frames.push_back(std::move(f));
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].kind, Kind::kTooLarge);
  EXPECT_EQ(frames[1].kind, Kind::kMessage);
  EXPECT_EQ(frames[1].body, "{\"next\":1}");
}

TEST(FramingTest, NdjsonLineOverLimitInOneChunk) {
  FrameLimits limits;
  limits.max_message_bytes = 16;
  FrameDecoder d(limits);
  auto frames = FeedAll(d, std::string(40, 'x') + "\n{}\n");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].kind, Kind::kTooLarge);
  EXPECT_EQ(frames[1].body, "{}");
}

TEST(FramingTest, ContentLengthOverLimitIsSkippedWithoutBuffering) {
  FrameLimits limits;
  limits.max_message_bytes = 1024;
  FrameDecoder d(limits);
  std::string body(100000, ' ');
  std::string in = Cl(body) + Cl("{\"next\":1}");
  std::vector<Frame> frames;
  for (size_t i = 0; i < in.size(); i += 333) {
    d.Feed(std::string_view(in).substr(i, 333));
    EXPECT_LE(d.buffered(), 2048u);
    for (auto& f : Drain(d)) frames.push_back(std::move(f));
  }
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].kind, Kind::kTooLarge);
  EXPECT_EQ(frames[1].kind, Kind::kMessage);
  EXPECT_EQ(frames[1].body, "{\"next\":1}");
}

TEST(FramingTest, MessageExactlyAtLimitPasses) {
  FrameLimits limits;
  limits.max_message_bytes = 8;
  FrameDecoder nd(limits), cl(limits);
  auto a = FeedAll(nd, "[1,2,34]\n");
  auto b = FeedAll(cl, Cl("[1,2,34]"));
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0].kind, Kind::kMessage);
  EXPECT_EQ(b[0].kind, Kind::kMessage);
}

class BadContentLengthTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BadContentLengthTest, ReportedOnceThenResyncs) {
  FrameDecoder d;
  std::string in = "Content-Length: " + GetParam() + "\r\n\r\n{\"bad\":1}" + Cl("{\"good\":1}");
  auto frames = FeedAll(d, in);
  ASSERT_EQ(frames.size(), 2u) << "value " << GetParam();
  EXPECT_EQ(frames[0].kind, Kind::kBadHeader);
  EXPECT_EQ(frames[1].kind, Kind::kMessage);
  EXPECT_EQ(frames[1].body, "{\"good\":1}");
}

INSTANTIATE_TEST_SUITE_P(Values, BadContentLengthTest,
                         ::testing::Values("abc", "-1", "", "12x", "99999999999999999999999999", "0x10"));

TEST(FramingTest, ZeroContentLengthIsAnEmptyMessage) {
  FrameDecoder d;
  auto frames = FeedAll(d, "Content-Length: 0\r\n\r\n" + Cl("{}"));
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].kind, Kind::kMessage);
  EXPECT_EQ(frames[0].body, "");
  EXPECT_EQ(frames[1].body, "{}");
}

TEST(FramingTest, DepthLimitIsAppliedToMessages) {
  FrameLimits limits;
  limits.max_depth = 4;
  FrameDecoder d(limits);
  auto frames = FeedAll(d, "[[[[1]]]]\n[[[[[1]]]]]\n{\"s\":\"[[[[[[[[\"}\n");
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].kind, Kind::kMessage);
  EXPECT_EQ(frames[1].kind, Kind::kTooDeep);
  EXPECT_EQ(frames[2].kind, Kind::kMessage) << "brackets inside strings do not count";
}

TEST(FramingTest, EncodeFrameUsesTheConnectionFraming) {
  EXPECT_EQ(EncodeFrame(Framing::kNdjson, "{}"), "{}\n");
  EXPECT_EQ(EncodeFrame(Framing::kContentLength, "{}"), "Content-Length: 2\r\n\r\n{}");
}

}  // namespace
}  // namespace cordon::protocol
