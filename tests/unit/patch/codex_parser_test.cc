// Grammar of the Codex envelope, one rule per test, with the errors a truncated or malformed
// model patch must produce.
#include "sandbox/patch/codex_parser.h"

#include <gtest/gtest.h>

namespace cordon::patch {
namespace {

PatchSet MustParse(const std::string& text) {
  auto r = ParseCodexPatch(text);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().detail);
  return r.ok() ? r.value() : PatchSet{};
}

std::string ParseError(const std::string& text) {
  auto r = ParseCodexPatch(text);
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.error().detail;
}

TEST(CodexParser, AddFileCollectsPlusLines) {
  auto set = MustParse("*** Begin Patch\n*** Add File: src/a.txt\n+one\n+\n+three\n*** End Patch\n");
  ASSERT_EQ(set.files.size(), 1u);
  EXPECT_EQ(set.files[0].op, FileOp::kAdd);
  EXPECT_EQ(set.files[0].path, "src/a.txt");
  EXPECT_EQ(set.files[0].add_content, "one\n\nthree\n");
}

TEST(CodexParser, AddEmptyFile) {
  auto set = MustParse("*** Begin Patch\n*** Add File: empty\n*** End Patch\n");
  ASSERT_EQ(set.files.size(), 1u);
  EXPECT_EQ(set.files[0].add_content, "");
}

TEST(CodexParser, DeleteFile) {
  auto set = MustParse("*** Begin Patch\n*** Delete File: old.txt\n*** End Patch");
  ASSERT_EQ(set.files.size(), 1u);
  EXPECT_EQ(set.files[0].op, FileOp::kDelete);
  EXPECT_EQ(set.files[0].path, "old.txt");
}

TEST(CodexParser, UpdateWithContextHunk) {
  auto set = MustParse(
      "*** Begin Patch\n*** Update File: a.py\n@@ def f():\n     x = 1\n-    y = 2\n+    y = 3\n"
      " return\n*** End Patch\n");
  ASSERT_EQ(set.files.size(), 1u);
  const auto& fp = set.files[0];
  EXPECT_EQ(fp.op, FileOp::kUpdate);
  EXPECT_EQ(fp.mode, MatchMode::kCodex);
  ASSERT_EQ(fp.hunks.size(), 1u);
  const auto& h = fp.hunks[0];
  EXPECT_EQ(h.anchors, std::vector<std::string>{"def f():"});
  EXPECT_EQ(h.old_lines, (std::vector<std::string>{"    x = 1\n", "    y = 2\n", "return\n"}));
  EXPECT_EQ(h.new_lines, (std::vector<std::string>{"    x = 1\n", "    y = 3\n", "return\n"}));
  EXPECT_EQ(h.new_from_old, (std::vector<int>{0, -1, 2}));
}

TEST(CodexParser, BareAtAtSeparatesHunks) {
  auto set = MustParse("*** Begin Patch\n*** Update File: a\n@@\n-a\n+b\n@@\n-c\n+d\n*** End Patch\n");
  ASSERT_EQ(set.files[0].hunks.size(), 2u);
  EXPECT_TRUE(set.files[0].hunks[0].anchors.empty());
}

TEST(CodexParser, StackedAnchorsBelongToOneHunk) {
  auto set = MustParse("*** Begin Patch\n*** Update File: a\n@@ class A\n@@ def f\n-a\n+b\n*** End Patch\n");
  ASSERT_EQ(set.files[0].hunks.size(), 1u);
  EXPECT_EQ(set.files[0].hunks[0].anchors, (std::vector<std::string>{"class A", "def f"}));
}

TEST(CodexParser, FirstHunkMayOmitAtAt) {
  auto set = MustParse("*** Begin Patch\n*** Update File: a\n x\n-a\n+b\n*** End Patch\n");
  ASSERT_EQ(set.files[0].hunks.size(), 1u);
}

TEST(CodexParser, MoveTo) {
  auto set = MustParse("*** Begin Patch\n*** Update File: a\n*** Move to: b/c\n@@\n-a\n+b\n*** End Patch\n");
  ASSERT_TRUE(set.files[0].move_to.has_value());
  EXPECT_EQ(*set.files[0].move_to, "b/c");
}

TEST(CodexParser, PureMoveWithoutHunks) {
  auto set = MustParse("*** Begin Patch\n*** Update File: a\n*** Move to: b\n*** End Patch\n");
  EXPECT_TRUE(set.files[0].hunks.empty());
}

TEST(CodexParser, EndOfFileMarksHunk) {
  auto set = MustParse("*** Begin Patch\n*** Update File: a\n@@\n-last\n+LAST\n*** End of File\n*** End Patch\n");
  ASSERT_EQ(set.files[0].hunks.size(), 1u);
  EXPECT_TRUE(set.files[0].hunks[0].at_end_of_file);
}

TEST(CodexParser, EmptyLineInHunkIsEmptyContext) {
  auto set = MustParse("*** Begin Patch\n*** Update File: a\n@@\n a\n\n-b\n+c\n*** End Patch\n");
  EXPECT_EQ(set.files[0].hunks[0].old_lines, (std::vector<std::string>{"a\n", "\n", "b\n"}));
}

TEST(CodexParser, SeveralFilesInOrder) {
  auto set = MustParse(
      "*** Begin Patch\n*** Add File: n\n+x\n*** Delete File: d\n*** Update File: u\n@@\n-a\n+b\n*** End Patch\n");
  ASSERT_EQ(set.files.size(), 3u);
  EXPECT_EQ(set.files[0].op, FileOp::kAdd);
  EXPECT_EQ(set.files[1].op, FileOp::kDelete);
  EXPECT_EQ(set.files[2].op, FileOp::kUpdate);
}

TEST(CodexParser, ToleratesCrlfHeredocAndIndentedMarkers) {
  auto set = MustParse("<<'EOF'\r\n  *** Begin Patch\r\n*** Update File: a  \r\n@@\r\n-a\r\n+b\r\n*** End Patch  \r\nEOF\r\n");
  ASSERT_EQ(set.files.size(), 1u);
  EXPECT_EQ(set.files[0].path, "a");
  EXPECT_EQ(set.files[0].hunks[0].new_lines, std::vector<std::string>{"b\n"});
}

TEST(CodexParser, BlankLinesBetweenSections) {
  auto set = MustParse("*** Begin Patch\n\n*** Add File: a\n+x\n\n*** Delete File: b\n\n*** End Patch\n");
  EXPECT_EQ(set.files.size(), 2u);
}

TEST(CodexParser, RequiresBegin) {
  EXPECT_NE(ParseError("*** Update File: a\n-a\n+b\n*** End Patch\n").find("*** Begin Patch"), std::string::npos);
}

TEST(CodexParser, TruncatedPatchIsRefused) {
  std::string e = ParseError("*** Begin Patch\n*** Update File: a\n@@\n-a\n+b\n");
  EXPECT_NE(e.find("End Patch"), std::string::npos) << e;
}

TEST(CodexParser, BadHunkLineNamesLine) {
  std::string e = ParseError("*** Begin Patch\n*** Update File: a\n@@\n-a\n*b\n*** End Patch\n");
  EXPECT_NE(e.find("line 5"), std::string::npos) << e;
}

TEST(CodexParser, AddLineWithoutPlusIsRefused) {
  std::string e = ParseError("*** Begin Patch\n*** Add File: a\n+x\ny\n*** End Patch\n");
  EXPECT_NE(e.find("'+'"), std::string::npos) << e;
}

TEST(CodexParser, UnknownHeaderIsRefused) {
  std::string e = ParseError("*** Begin Patch\n*** Rename File: a\n*** End Patch\n");
  EXPECT_NE(e.find("not a file header"), std::string::npos) << e;
}

TEST(CodexParser, UpdateWithoutHunksIsRefused) {
  EXPECT_NE(ParseError("*** Begin Patch\n*** Update File: a\n*** End Patch\n").find("no hunks"), std::string::npos);
}

TEST(CodexParser, TextAfterEndIsRefused) {
  EXPECT_NE(ParseError("*** Begin Patch\n*** Delete File: a\n*** End Patch\nmore\n").find("after"), std::string::npos);
}

TEST(CodexParser, EmptyPathAndEmptyPatchAreRefused) {
  ParseError("*** Begin Patch\n*** Delete File: \n*** End Patch\n");
  ParseError("*** Begin Patch\n*** End Patch\n");
  ParseError("");
}

TEST(CodexParser, Detection) {
  EXPECT_TRUE(LooksLikeCodexPatch("\n\n*** Begin Patch\n"));
  EXPECT_TRUE(LooksLikeCodexPatch("<<EOF\n*** Begin Patch\n"));
  EXPECT_FALSE(LooksLikeCodexPatch("diff --git a/x b/x\n"));
}

}  // namespace
}  // namespace cordon::patch
