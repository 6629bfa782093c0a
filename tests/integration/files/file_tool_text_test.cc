// The text the file tools give a model, checked without a sandbox.
#include <gtest/gtest.h>

#include "server/file_tool_text.h"

namespace cordon::server {
namespace {

ops::ReadFileResult Lines(const std::string& content, uint64_t start, uint64_t end, uint64_t total) {
  ops::ReadFileResult r;
  r.content = content;
  r.startLine = start;
  r.endLine = end;
  r.totalLines = total;
  r.size = content.size();
  r.sha256 = std::string(64, 'a');
  return r;
}

TEST(FileToolTextTest, NumberedLinesAndTrailer) {
  EXPECT_EQ(NumberedText("f", Lines("a\r\nb\n", 9, 10, 10)), "     9\ta\n    10\tb\n[lines 9-10 of 10]");
  EXPECT_EQ(NumberedText("f", Lines("a", 1, 1, 3)),
            "     1\ta\n[lines 1-1 of 3] - call read_file again with offset=2 for more");
  EXPECT_EQ(NumberedText("f", Lines("", 1, 0, 0)), "[lines 0-0 of 0] (f is empty)");
  EXPECT_NE(NumberedText("f", Lines("", 9, 8, 3)).find("past the end"), std::string::npos);
  EXPECT_NE(NumberedText("f", Lines(std::string("a\0b", 3), 1, 1, 1)).find("binary file"), std::string::npos);
}

TEST(FileToolTextTest, LongLinesAreCutOnACharacterBoundary) {
  std::string line;
  while (line.size() < kToolMaxLineBytes + 10) line += "\xC3\xA9";  // é, two bytes
  std::string text = NumberedText("f", Lines(line + "\n", 1, 1, 1));
  size_t tab = text.find('\t'), cut = text.find(" [... line cut: ");
  ASSERT_NE(cut, std::string::npos);
  EXPECT_LE(cut - tab - 1, kToolMaxLineBytes);
  EXPECT_EQ((cut - tab - 1) % 2, 0u);  // never half a character
}

TEST(FileToolTextTest, TextIsCutAtItsLimitWithAContinuationOffset) {
  std::string content;
  uint64_t n = 0;
  while (content.size() < kToolMaxTextBytes * 2) {
    content += std::string(100, 'x') + "\n";
    ++n;
  }
  std::string text = NumberedText("f", Lines(content, 1, n, n));
  EXPECT_LE(text.size(), kToolMaxTextBytes + 200);
  EXPECT_NE(text.find("call read_file again with offset="), std::string::npos);
}

TEST(FileToolTextTest, ListingAndPatchSummary) {
  ops::ReadDirectoryResult d;
  d.entries = {{"a", "file", 3}, {"b", "dir", 0}, {"c", "symlink", 0}, {"p", "other", 0}};
  EXPECT_EQ(ListingText(".", d), "a (3 bytes)\nb/\nc@\np (special file)\n[4 entries]");
  ops::ApplyPatchResult p;
  p.applied = true;
  p.files = {{"x", "update", std::nullopt, 2}, {"y", "add", std::nullopt, 0}, {"z", "move", "w", 1}};
  EXPECT_EQ(PatchSummaryText(p, false), "Applied the patch: 3 files\nM x (2 hunks)\nA y\nR z -> w (1 hunk)");
}

TEST(FileToolTextTest, ErrorsSayWhatToDoNext) {
  EXPECT_NE(ToolErrorText("apply_patch", "", MakeError(ErrorKind::kConflict, "a.py: hunk 1"), nullptr).find("No file was changed"),
            std::string::npos);
  EXPECT_NE(ToolErrorText("read_file", "x", MakeError(ErrorKind::kNotFound, "x"), nullptr).find("list_directory"),
            std::string::npos);
}

}  // namespace
}  // namespace cordon::server
