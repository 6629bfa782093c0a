// Unified diffs as diff -u and git diff write them, including git's extended headers.
#include "sandbox/patch/unified_parser.h"

#include <gtest/gtest.h>

#include "sandbox/patch/patch_parser.h"

namespace cordon::patch {
namespace {

PatchSet MustParse(const std::string& text) {
  auto r = ParseUnifiedDiff(text);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().detail);
  return r.ok() ? r.value() : PatchSet{};
}

TEST(UnifiedParser, GitModification) {
  auto set = MustParse(
      "diff --git a/src/x.c b/src/x.c\nindex 1111111..2222222 100644\n--- a/src/x.c\n+++ b/src/x.c\n"
      "@@ -1,3 +1,3 @@ int main()\n a\n-b\n+B\n c\n");
  ASSERT_EQ(set.files.size(), 1u);
  const auto& fp = set.files[0];
  EXPECT_EQ(fp.op, FileOp::kUpdate);
  EXPECT_EQ(fp.path, "src/x.c");
  ASSERT_EQ(fp.hunks.size(), 1u);
  EXPECT_EQ(fp.hunks[0].old_start, 1);
  EXPECT_EQ(fp.hunks[0].leading_context, 1);
  EXPECT_EQ(fp.hunks[0].trailing_context, 1);
  EXPECT_EQ(fp.hunks[0].old_lines, (std::vector<std::string>{"a\n", "b\n", "c\n"}));
  EXPECT_EQ(fp.hunks[0].new_lines, (std::vector<std::string>{"a\n", "B\n", "c\n"}));
}

TEST(UnifiedParser, NewDeletedRenameCopyAndModes) {
  auto set = MustParse(
      "diff --git a/new.sh b/new.sh\nnew file mode 100755\nindex 0000000..1111111\n--- /dev/null\n+++ b/new.sh\n"
      "@@ -0,0 +1,2 @@\n+#!/bin/sh\n+echo hi\n"
      "diff --git a/gone b/gone\ndeleted file mode 100644\nindex 1111111..0000000\n--- a/gone\n+++ /dev/null\n"
      "@@ -1 +0,0 @@\n-bye\n"
      "diff --git a/old name b/new name\nsimilarity index 90%\nrename from old name\nrename to new name\n"
      "diff --git a/mode b/mode\nold mode 100644\nnew mode 100755\n"
      "diff --git a/src b/dst\nsimilarity index 100%\ncopy from src\ncopy to dst\n"
      "diff --git a/empty b/empty\nnew file mode 100644\nindex 0000000..e69de29\n");
  ASSERT_EQ(set.files.size(), 6u);
  EXPECT_EQ(set.files[0].op, FileOp::kAdd);
  EXPECT_EQ(set.files[0].path, "new.sh");
  EXPECT_EQ(set.files[0].add_content, "#!/bin/sh\necho hi\n");
  EXPECT_EQ(set.files[0].new_mode, 0755u);
  EXPECT_EQ(set.files[1].op, FileOp::kDelete);
  EXPECT_EQ(set.files[1].path, "gone");
  EXPECT_EQ(set.files[2].path, "old name");
  EXPECT_EQ(set.files[2].move_to, "new name");
  EXPECT_EQ(set.files[3].path, "mode");
  EXPECT_EQ(set.files[3].new_mode, 0755u);
  EXPECT_EQ(set.files[4].op, FileOp::kCopy);
  EXPECT_EQ(set.files[4].move_to, "dst");
  EXPECT_EQ(set.files[5].op, FileOp::kAdd);
  EXPECT_EQ(set.files[5].path, "empty");
  EXPECT_EQ(set.files[5].add_content, "");
}

TEST(UnifiedParser, NoNewlineMarkers) {
  auto set = MustParse("--- a/f\n+++ b/f\n@@ -1 +1 @@\n-old\n\\ No newline at end of file\n+new\n\\ No newline at end of file\n");
  const auto& h = set.files[0].hunks[0];
  EXPECT_EQ(h.old_lines, std::vector<std::string>{"old"});
  EXPECT_EQ(h.new_lines, std::vector<std::string>{"new"});
}

TEST(UnifiedParser, TraditionalDiffWithTimestampsAndEpoch) {
  auto set = MustParse(
      "diff -ruN a/x b/x\n--- a/x\t2024-01-01 10:00:00.000000000 +0000\n+++ b/x\t2024-01-02 10:00:00.000000000 +0000\n"
      "@@ -1 +1 @@\n-a\n+b\n"
      "diff -ruN a/n b/n\n--- a/n\t1970-01-01 00:00:00.000000000 +0000\n+++ b/n\t2024-01-02 10:00:00.000000000 +0000\n"
      "@@ -0,0 +1 @@\n+new\n"
      "--- a/d\t2024-01-01 10:00:00.000000000 +0000\n+++ b/d\t1970-01-01 00:00:00.000000000 +0000\n"
      "@@ -1 +0,0 @@\n-del\n");
  ASSERT_EQ(set.files.size(), 3u);
  EXPECT_EQ(set.files[0].op, FileOp::kUpdate);
  EXPECT_EQ(set.files[0].path, "x");
  EXPECT_EQ(set.files[1].op, FileOp::kAdd);
  EXPECT_EQ(set.files[1].add_content, "new\n");
  EXPECT_EQ(set.files[2].op, FileOp::kDelete);
}

TEST(UnifiedParser, QuotedNames) {
  auto set = MustParse("diff --git \"a/caf\\303\\251 \\\"q\\\"\" \"b/caf\\303\\251 \\\"q\\\"\"\n--- \"a/caf\\303\\251 \\\"q\\\"\"\n"
                       "+++ \"b/caf\\303\\251 \\\"q\\\"\"\n@@ -1 +1 @@\n-a\n+b\n");
  EXPECT_EQ(set.files[0].path, "caf\xc3\xa9 \"q\"");
}

TEST(UnifiedParser, EmptyContextLineWithoutSpace) {
  auto set = MustParse("--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n\n-b\n+c\n");
  EXPECT_EQ(set.files[0].hunks[0].old_lines, (std::vector<std::string>{"a\n", "\n", "b\n"}));
}

TEST(UnifiedParser, BinaryIsRefused) {
  auto r = ParseUnifiedDiff("diff --git a/i.png b/i.png\nindex 1..2 100644\nGIT binary patch\nliteral 5\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kUnsupported);
  EXPECT_NE(r.error().detail.find("binary"), std::string::npos);
  auto r2 = ParseUnifiedDiff("diff --git a/i.png b/i.png\nindex 1..2 100644\nBinary files a/i.png and b/i.png differ\n");
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().kind, ErrorKind::kUnsupported);
}

TEST(UnifiedParser, SymlinkEntriesAreRefused) {
  auto r = ParseUnifiedDiff("diff --git a/l b/l\nnew file mode 120000\n--- /dev/null\n+++ b/l\n@@ -0,0 +1 @@\n+target\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kUnsupported);
}

TEST(UnifiedParser, TruncatedHunkIsRefused) {
  auto r = ParseUnifiedDiff("--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("truncated"), std::string::npos) << r.error().detail;
}

TEST(UnifiedParser, CorruptLineIsRefused) {
  auto r = ParseUnifiedDiff("--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n*b\n c\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("line 5"), std::string::npos) << r.error().detail;
}

TEST(UnifiedParser, MalformedHeaderIsRefused) {
  EXPECT_FALSE(ParseUnifiedDiff("--- a/f\n+++ b/f\n@@ -x +1 @@\n-a\n").ok());
}

TEST(UnifiedParser, GarbageBetweenSectionsIsSkipped) {
  auto set = MustParse("From 123 Mon\nSubject: x\n\n---\n stat | 1 +\n\ndiff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n-- \n2.39\n");
  EXPECT_EQ(set.files.size(), 1u);
}

TEST(PatchParser, AutoDetectsAndNamesFormats) {
  auto codex = ParsePatch("*** Begin Patch\n*** Delete File: a\n*** End Patch\n");
  ASSERT_TRUE(codex.ok());
  EXPECT_EQ(codex->format, PatchFormat::kCodex);
  auto unified = ParsePatch("--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n");
  ASSERT_TRUE(unified.ok());
  EXPECT_EQ(unified->format, PatchFormat::kUnified);
  auto neither = ParsePatch("hello\n");
  ASSERT_FALSE(neither.ok());
  EXPECT_EQ(neither.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_FALSE(ParsePatchFormat("git").ok());
}

}  // namespace
}  // namespace cordon::patch
