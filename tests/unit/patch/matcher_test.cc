// Hunk matching: Codex fuzz levels and git-apply offset rules, line endings, and the error
// message that names the hunk and the closest context.
#include "sandbox/patch/matcher.h"

#include <gtest/gtest.h>

#include "sandbox/patch/codex_parser.h"
#include "sandbox/patch/unified_parser.h"

namespace cordon::patch {
namespace {

Result<std::string> Codex(const std::string& body, const std::string& content) {
  auto set = ParseCodexPatch("*** Begin Patch\n*** Update File: f\n" + body + "*** End Patch\n");
  if (!set) return set.error();
  return ApplyHunks(set->files.at(0), content, "f");
}

Result<std::string> Unified(const std::string& hunks, const std::string& content) {
  auto set = ParseUnifiedDiff("--- a/f\n+++ b/f\n" + hunks);
  if (!set) return set.error();
  return ApplyHunks(set->files.at(0), content, "f");
}

std::string Ok(const Result<std::string>& r) {
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().detail);
  return r.ok() ? r.value() : "<error>";
}

// ---- Codex fuzz levels ----

TEST(CodexMatch, Exact) {
  EXPECT_EQ(Ok(Codex("@@\n a\n-b\n+B\n c\n", "a\nb\nc\n")), "a\nB\nc\n");
}

TEST(CodexMatch, IgnoresTrailingWhitespace) {
  EXPECT_EQ(Ok(Codex("@@\n a\n-b\n+B\n", "a  \nb\t\nc\n")), "a  \nB\nc\n");
}

TEST(CodexMatch, IgnoresSurroundingWhitespace) {
  EXPECT_EQ(Ok(Codex("@@\n a\n-b\n+    B\n", "    a\n    b\nc\n")), "    a\n    B\nc\n");
}

TEST(CodexMatch, FoldsUnicodePunctuation) {
  // The file has typographic quotes, a dash and a no-break space; the patch has ASCII.
  std::string file = "say(\xE2\x80\x9Chi\xE2\x80\x9D)\nx \xE2\x80\x94 y\nA\xC2\xA0" "B\n";
  EXPECT_EQ(Ok(Codex("@@\n say(\"hi\")\n-x - y\n+x = y\n A B\n", file)),
            "say(\xE2\x80\x9Chi\xE2\x80\x9D)\nx = y\nA\xC2\xA0" "B\n");
}

TEST(CodexMatch, LowerLevelWinsOverEarlierFuzzyMatch) {
  // " x" matches line 1 only fuzzily and line 3 exactly: the exact match is taken.
  EXPECT_EQ(Ok(Codex("@@\n-x\n+X\n", " x\ny\nx\n")), " x\ny\nX\n");
}

TEST(CodexMatch, AnchorsNarrowTheSearch) {
  std::string file = "def a():\n    return 1\ndef b():\n    return 1\n";
  EXPECT_EQ(Ok(Codex("@@ def b():\n-    return 1\n+    return 2\n", file)),
            "def a():\n    return 1\ndef b():\n    return 2\n");
}

TEST(CodexMatch, StackedAnchors) {
  std::string file = "class A:\n  def f():\n    x\nclass B:\n  def f():\n    x\n";
  EXPECT_EQ(Ok(Codex("@@ class B:\n@@ def f():\n-    x\n+    y\n", file)),
            "class A:\n  def f():\n    x\nclass B:\n  def f():\n    y\n");
}

TEST(CodexMatch, HunksApplyInOrder) {
  EXPECT_EQ(Ok(Codex("@@\n-x\n+1\n@@\n-x\n+2\n", "x\nx\nx\n")), "1\n2\nx\n");
}

TEST(CodexMatch, EndOfFilePrefersTheLastOccurrence) {
  EXPECT_EQ(Ok(Codex("@@\n-x\n+END\n*** End of File\n", "x\ny\nx\n")), "x\ny\nEND\n");
}

TEST(CodexMatch, PureAdditionAppendsOrFollowsAnchor) {
  EXPECT_EQ(Ok(Codex("@@\n+z\n", "a\nb\n")), "a\nb\nz\n");
  EXPECT_EQ(Ok(Codex("@@ a\n+z\n", "a\nb\n")), "a\nz\nb\n");
}

TEST(CodexMatch, TrailingBlankContextIsForgiven) {
  EXPECT_EQ(Ok(Codex("@@\n a\n-b\n+B\n \n", "a\nb\n")), "a\nB\n");
}

TEST(CodexMatch, KeepsCrlf) {
  EXPECT_EQ(Ok(Codex("@@\n a\n-b\n+B\n+C\n", "a\r\nb\r\nc\r\n")), "a\r\nB\r\nC\r\nc\r\n");
}

TEST(CodexMatch, ContextLinesKeepTheFileBytes) {
  EXPECT_EQ(Ok(Codex("@@\n a\n-b\n+B\n", "  a  \nb\n")), "  a  \nB\n");
}

TEST(CodexMatch, AddingAfterLastLineWithoutNewline) {
  EXPECT_EQ(Ok(Codex("@@\n b\n+c\n", "a\nb")), "a\nb\nc\n");
}

TEST(CodexMatch, FailureNamesHunkAndClosestContext) {
  auto r = Codex("@@\n one\n-two\n+2\n@@\n alpha\n-beta\n gamma\n", "one\ntwo\nalpha\nBETA\ngamma\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kConflict);
  const std::string& d = r.error().detail;
  EXPECT_NE(d.find("f: hunk 2 of 2"), std::string::npos) << d;
  EXPECT_NE(d.find("closest match at line 3"), std::string::npos) << d;
  EXPECT_NE(d.find("line 4 is \"BETA\""), std::string::npos) << d;
  EXPECT_NE(d.find("expects \"beta\""), std::string::npos) << d;
}

TEST(CodexMatch, MissingAnchorIsNamed) {
  auto r = Codex("@@ def nowhere():\n-a\n+b\n", "a\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("def nowhere():"), std::string::npos) << r.error().detail;
}

// ---- unified / git apply ----

TEST(UnifiedMatch, AppliesAtStatedLine) {
  EXPECT_EQ(Ok(Unified("@@ -2,3 +2,3 @@\n b\n-c\n+C\n d\n", "a\nb\nc\nd\ne\n")), "a\nb\nC\nd\ne\n");
}

TEST(UnifiedMatch, AppliesAtOffsetWhenLinesMoved) {
  std::string file = "x1\nx2\nx3\na\nb\nc\nd\ne\n";  // three lines inserted above
  EXPECT_EQ(Ok(Unified("@@ -2,3 +2,3 @@\n b\n-c\n+C\n d\n", file)), "x1\nx2\nx3\na\nb\nC\nd\ne\n");
  std::string shorter = "b\nc\nd\n";  // one line removed above
  EXPECT_EQ(Ok(Unified("@@ -2,3 +2,3 @@\n b\n-c\n+C\n d\n", shorter)), "b\nC\nd\n");
}

TEST(UnifiedMatch, PrefersNearestOccurrence) {
  // The context "k v z" appears at lines 1, 6 and 11; the hunk says line 7: line 6 is nearest.
  std::string file = "k\nv\nz\n1\n2\nk\nv\nz\n3\n4\nk\nv\nz\n";
  EXPECT_EQ(Ok(Unified("@@ -7,3 +7,3 @@\n k\n-v\n+V\n z\n", file)),
            "k\nv\nz\n1\n2\nk\nV\nz\n3\n4\nk\nv\nz\n");
}

TEST(UnifiedMatch, HunkAtLineOneMustMatchAtStart) {
  auto r = Unified("@@ -1,2 +1,2 @@\n-a\n+A\n b\n", "z\na\nb\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("start of the file"), std::string::npos) << r.error().detail;
}

TEST(UnifiedMatch, HunkWithoutTrailingContextMustMatchAtEnd) {
  EXPECT_EQ(Ok(Unified("@@ -2,2 +2,3 @@\n b\n c\n+d\n", "a\nb\nc\n")), "a\nb\nc\nd\n");
  EXPECT_FALSE(Unified("@@ -2,2 +2,3 @@\n b\n c\n+d\n", "a\nb\nc\nz\n").ok());
}

TEST(UnifiedMatch, NoNewlineAtEndOfFile) {
  EXPECT_EQ(Ok(Unified("@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n", "a\nb")), "a\nb\n");
  EXPECT_EQ(Ok(Unified("@@ -1,2 +1,2 @@\n a\n-b\n+c\n\\ No newline at end of file\n", "a\nb\n")), "a\nc");
  // The preimage says "b" has a newline; a file without one does not match.
  EXPECT_FALSE(Unified("@@ -1,2 +1,2 @@\n a\n-b\n+c\n", "a\nb").ok());
}

TEST(UnifiedMatch, CrlfDiffOnCrlfFileIsExact) {
  EXPECT_EQ(Ok(Unified("@@ -1,2 +1,2 @@\n a\r\n-b\r\n+B\r\n", "a\r\nb\r\n")), "a\r\nB\r\n");
}

TEST(UnifiedMatch, LfDiffStillAppliesToCrlfFile) {
  EXPECT_EQ(Ok(Unified("@@ -1,2 +1,3 @@\n a\n-b\n+B\n+C\n", "a\r\nb\r\n")), "a\r\nB\r\nC\r\n");
}

TEST(UnifiedMatch, LinesWrittenByAnEarlierHunkAreNotMatchedAgain) {
  // Hunk 2 could only match on the line hunk 1 produced; git apply refuses that.
  EXPECT_FALSE(Unified("@@ -1,1 +1,1 @@\n-a\n+x\n@@ -5,1 +5,1 @@\n-x\n+y\n", "a\n").ok());
}

TEST(UnifiedMatch, FailureNamesHunkHeaderAndClosestLine) {
  auto r = Unified("@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n@@ -10,3 +10,3 @@\n p\n-q\n+Q\n r\n",
                   "a\nb\nc\n4\n5\n6\n7\n8\n9\np\nQQ\nr\n13\n");
  ASSERT_FALSE(r.ok());
  const std::string& d = r.error().detail;
  EXPECT_NE(d.find("hunk 2 of 2 (@@ -10,3 +10,3 @@)"), std::string::npos) << d;
  EXPECT_NE(d.find("closest match at line 10 (2 of 3 lines agree)"), std::string::npos) << d;
  EXPECT_NE(d.find("line 11 is \"QQ\""), std::string::npos) << d;
}

}  // namespace
}  // namespace cordon::patch
