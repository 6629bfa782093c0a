// OutputQueue, the hand-over between the threads that collect a command's output and
// ReadOutput: order, splitting to the reader's size, and an end marker that stays.
#include <gtest/gtest.h>

#include <thread>

#include "sandbox/win/output_queue.h"

namespace cordon::win {
namespace {

TEST(OutputQueue, TakesInOrderAndSplitsToTheReadersSize) {
  OutputQueue q;
  q.Push(OutputChunk{OutputStream::kStdout, "abcdef", false});
  q.Push(OutputChunk{OutputStream::kStderr, "xy", false});
  OutputChunk first = q.Take(4);
  EXPECT_EQ(first.stream, OutputStream::kStdout);
  EXPECT_EQ(first.data, "abcd");
  EXPECT_FALSE(first.eof);
  OutputChunk rest = q.Take(4);
  EXPECT_EQ(rest.stream, OutputStream::kStdout);
  EXPECT_EQ(rest.data, "ef");
  OutputChunk err = q.Take(4);
  EXPECT_EQ(err.stream, OutputStream::kStderr);
  EXPECT_EQ(err.data, "xy");
}

TEST(OutputQueue, EndMarkerIsQueuedOnceAndReturnedToEveryLaterRead) {
  OutputQueue q;
  q.Push(OutputChunk{OutputStream::kStdout, "last", false});
  q.End(OutputStream::kStderr);
  q.End(OutputStream::kStdout);  // ignored: the output has already ended
  EXPECT_EQ(q.Take(100).data, "last");
  for (int i = 0; i < 3; ++i) {
    OutputChunk end = q.Take(100);
    EXPECT_TRUE(end.eof);
    EXPECT_TRUE(end.data.empty());
    EXPECT_EQ(end.stream, OutputStream::kStderr) << "the first End's stream";
  }
}

TEST(OutputQueue, TakeWaitsForAWriterOnAnotherThread) {
  OutputQueue q;
  std::thread writer([&] {
    q.Push(OutputChunk{OutputStream::kPty, "late", false});
    q.End(OutputStream::kPty);
  });
  OutputChunk got = q.Take(100);
  writer.join();
  EXPECT_EQ(got.stream, OutputStream::kPty);
  EXPECT_EQ(got.data, "late");
  EXPECT_TRUE(q.Take(100).eof);
}

}  // namespace
}  // namespace cordon::win
