// patch/apply end to end on real files: both formats, every action, modes, line endings,
// dry runs, and all-or-nothing failures (a bad hunk, a mid-commit failure, cancellation).
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/ops/ops_test_util.h"

namespace cordon::ops::testing {
namespace {

using ApplyPatchTest = TempTree;
using AtomicityTest = TempTree;

mode_t ModeOf(const fs::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 0777;
}

ApplyPatchResult MustApply(const FsContext& ctx, const std::string& text, bool dry_run = false) {
  auto r = ApplyPatch(ctx, PatchParams(text, dry_run));
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().detail);
  return r.ok() ? r.value() : ApplyPatchResult{};
}

TEST_F(ApplyPatchTest, CodexAddUpdateDeleteMove) {
  Put(ws_ / "src" / "main.py", "def main():\n    print('hi')\n    return 0\n");
  Put(ws_ / "old.txt", "bye\n");
  Put(ws_ / "docs" / "a.md", "# A\ntext\n");
  auto r = MustApply(ctx(),
                     "*** Begin Patch\n"
                     "*** Add File: src/util.py\n+def helper():\n+    return 1\n"
                     "*** Update File: src/main.py\n@@ def main():\n-    print('hi')\n+    print('hello')\n"
                     "*** Delete File: old.txt\n"
                     "*** Update File: docs/a.md\n*** Move to: docs/b.md\n@@\n # A\n-text\n+more text\n"
                     "*** End Patch\n");
  EXPECT_TRUE(r.applied);
  ASSERT_EQ(r.files.size(), 4u);
  EXPECT_EQ(r.files[0].action, "add");
  EXPECT_EQ(r.files[1].action, "update");
  EXPECT_EQ(r.files[2].action, "delete");
  EXPECT_EQ(r.files[3].action, "move");
  EXPECT_EQ(r.files[3].movedTo, "docs/b.md");
  EXPECT_EQ(Get(ws_ / "src/util.py"), "def helper():\n    return 1\n");
  EXPECT_EQ(Get(ws_ / "src/main.py"), "def main():\n    print('hello')\n    return 0\n");
  EXPECT_FALSE(fs::exists(ws_ / "old.txt"));
  EXPECT_FALSE(fs::exists(ws_ / "docs/a.md"));
  EXPECT_EQ(Get(ws_ / "docs/b.md"), "# A\nmore text\n");
  EXPECT_TRUE(TempLeftovers(ws_).empty());
}

TEST_F(ApplyPatchTest, DryRunReportsWithoutChanging) {
  Put(ws_ / "a", "x\n");
  auto r = MustApply(ctx(), "*** Begin Patch\n*** Update File: a\n@@\n-x\n+y\n*** End Patch\n", true);
  EXPECT_FALSE(r.applied);
  ASSERT_EQ(r.files.size(), 1u);
  EXPECT_EQ(r.files[0].hunks, 1u);
  EXPECT_EQ(Get(ws_ / "a"), "x\n");
}

TEST_F(ApplyPatchTest, UnifiedGitDiffWithModesAndRename) {
  Put(ws_ / "run.sh", "echo a\n", 0644);
  Put(ws_ / "keep.sh", "echo k\n", 0755);
  Put(ws_ / "from.txt", "1\n2\n3\n");
  auto r = MustApply(ctx(),
                     "diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n"
                     "diff --git a/keep.sh b/keep.sh\nindex 1..2 100755\n--- a/keep.sh\n+++ b/keep.sh\n@@ -1 +1 @@\n-echo k\n+echo K\n"
                     "diff --git a/new.sh b/new.sh\nnew file mode 100755\n--- /dev/null\n+++ b/new.sh\n@@ -0,0 +1 @@\n+echo n\n"
                     "diff --git a/from.txt b/sub/to.txt\nsimilarity index 80%\nrename from from.txt\nrename to sub/to.txt\n"
                     "--- a/from.txt\n+++ b/sub/to.txt\n@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n");
  EXPECT_EQ(ModeOf(ws_ / "run.sh"), 0755u);
  EXPECT_EQ(Get(ws_ / "run.sh"), "echo a\n");
  EXPECT_EQ(ModeOf(ws_ / "keep.sh"), 0755u);
  EXPECT_EQ(Get(ws_ / "keep.sh"), "echo K\n");
  EXPECT_EQ(ModeOf(ws_ / "new.sh") & 0100, 0100u);
  EXPECT_FALSE(fs::exists(ws_ / "from.txt"));
  EXPECT_EQ(Get(ws_ / "sub/to.txt"), "1\ntwo\n3\n");
  EXPECT_EQ(r.files[3].action, "move");
}

TEST_F(ApplyPatchTest, CrlfFilesKeepCrlf) {
  Put(ws_ / "w.txt", "a\r\nb\r\nc\r\n");
  MustApply(ctx(), "*** Begin Patch\n*** Update File: w.txt\n@@\n a\n-b\n+B\n+B2\n*** End Patch\n");
  EXPECT_EQ(Get(ws_ / "w.txt"), "a\r\nB\r\nB2\r\nc\r\n");
  MustApply(ctx(), "--- a/w.txt\n+++ b/w.txt\n@@ -1,3 +1,3 @@\n a\n-B\n+b\n B2\n");
  EXPECT_EQ(Get(ws_ / "w.txt"), "a\r\nb\r\nB2\r\nc\r\n");
}

TEST_F(ApplyPatchTest, DeletingLastFilePrunesEmptyDirectories) {
  Put(ws_ / "a" / "b" / "only.txt", "x\n");
  Put(ws_ / "a" / "other.txt", "y\n");
  MustApply(ctx(), "--- a/a/b/only.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n");
  EXPECT_FALSE(fs::exists(ws_ / "a" / "b"));
  EXPECT_TRUE(fs::exists(ws_ / "a" / "other.txt"));
}

TEST_F(ApplyPatchTest, RefusalsAreTyped) {
  Put(ws_ / "exists", "x\n");
  auto r = ApplyPatch(ctx(), PatchParams("--- /dev/null\n+++ b/exists\n@@ -0,0 +1 @@\n+y\n"));
  EXPECT_EQ(r.error().kind, ErrorKind::kConflict);
  r = ApplyPatch(ctx(), PatchParams("*** Begin Patch\n*** Delete File: nothing\n*** End Patch\n"));
  EXPECT_EQ(r.error().kind, ErrorKind::kNotFound);
  r = ApplyPatch(ctx(), PatchParams("*** Begin Patch\n*** Update File: exists\n@@\n-nope\n+y\n*** End Patch\n"));
  EXPECT_EQ(r.error().kind, ErrorKind::kConflict);
  r = ApplyPatch(ctx(), PatchParams("not a patch"));
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
  r = ApplyPatch(ctx(), PatchParams("--- a/exists\n+++ /dev/null\n@@ -1 +0,0 @@\n-other\n"));
  EXPECT_EQ(r.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(Get(ws_ / "exists"), "x\n");
}

TEST_F(ApplyPatchTest, CodexAddReplacesExistingFile) {
  Put(ws_ / "f", "old\n");
  MustApply(ctx(), "*** Begin Patch\n*** Add File: f\n+new\n*** End Patch\n");
  EXPECT_EQ(Get(ws_ / "f"), "new\n");
}

TEST_F(ApplyPatchTest, SeveralSectionsForOneFileApplyInSequence) {
  Put(ws_ / "f", "a\nb\nc\n");
  MustApply(ctx(), "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n-a\n+A\n b\n c\n--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n A\n b\n-c\n+C\n");
  EXPECT_EQ(Get(ws_ / "f"), "A\nb\nC\n");
}

// ---- all or nothing ----

std::string FiftyFilePatch(bool break_last) {
  std::string patch = "*** Begin Patch\n";
  for (int i = 0; i < 50; ++i) {
    patch += "*** Update File: d" + std::to_string(i % 5) + "/f" + std::to_string(i) + ".txt\n@@\n line a\n";
    patch += (break_last && i == 49) ? "-no such line\n" : "-line b\n";
    patch += "+line B\n line c\n";
  }
  patch += "*** Add File: brand/new/dir/file.txt\n+x\n";
  return patch + "*** End Patch\n";
}

void MakeFiftyFiles(const fs::path& ws) {
  for (int i = 0; i < 50; ++i)
    Put(ws / ("d" + std::to_string(i % 5)) / ("f" + std::to_string(i) + ".txt"), "line a\nline b\nline c\n");
}

TEST_F(AtomicityTest, FiftyFilesLastHunkFailsChangesNothing) {
  MakeFiftyFiles(ws_);
  auto before = Snapshot(ws_);
  auto r = ApplyPatch(ctx(), PatchParams(FiftyFilePatch(true)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kConflict);
  EXPECT_NE(r.error().detail.find("d4/f49.txt: hunk 1 of 1"), std::string::npos) << r.error().detail;
  EXPECT_NE(r.error().detail.find("closest match at line 1"), std::string::npos) << r.error().detail;
  EXPECT_EQ(Snapshot(ws_), before);
  EXPECT_TRUE(TempLeftovers(ws_).empty());
  // The same patch without the bad hunk applies.
  ASSERT_TRUE(ApplyPatch(ctx(), PatchParams(FiftyFilePatch(false))).ok());
  EXPECT_EQ(Get(ws_ / "d4/f49.txt"), "line a\nline B\nline c\n");
}

// A commit that fails midway rolls back: the hook makes a target appear (EEXIST on
// RENAME_NOREPLACE) or disappear (the swapped-out inode is not the one read) at step k.
TEST_F(AtomicityTest, MidCommitFailureRollsBackEveryEarlierStep) {
  for (size_t fail_at : {0u, 1u, 25u, 50u, 51u}) {
    fs::remove_all(ws_);
    fs::create_directories(ws_);
    MakeFiftyFiles(ws_);
    Put(ws_ / "gone.txt", "delete me\n");
    auto before = Snapshot(ws_);
    std::string patch = FiftyFilePatch(false);
    patch.insert(patch.rfind("*** End Patch"), "*** Delete File: gone.txt\n");
    ApplyPatchHooks hooks;
    fs::path moved, moved_from;
    hooks.before_commit_step = [&](size_t step, size_t steps, const std::string& abs) {
      ASSERT_EQ(steps, 52u);
      if (step != fail_at) return;
      // Path order: brand/new/dir/file.txt is step 0; d0/..d4/.. follow; gone.txt is last.
      if (step == 0) Put(abs, "someone else\n");
      else if (step == 51) fs::remove(abs);
      else fs::rename(moved_from = abs, moved = fs::path(abs).parent_path() / "moved-away");
    };
    auto r = ApplyPatch(ctx(), PatchParams(patch), &hooks);
    ASSERT_FALSE(r.ok()) << "fail_at " << fail_at;
    EXPECT_EQ(r.error().kind, ErrorKind::kConflict) << r.error().detail;
    auto after = Snapshot(ws_);
    // Undo what the hook itself did, then the tree must be exactly as before.
    if (fail_at == 0) {
      EXPECT_EQ(Get(ws_ / "brand/new/dir/file.txt"), "someone else\n");
      fs::remove_all(ws_ / "brand");
    } else if (fail_at == 51) {
      Put(ws_ / "gone.txt", "delete me\n");
    } else {
      fs::rename(moved, moved_from);
    }
    EXPECT_EQ(Snapshot(ws_), before) << "fail_at " << fail_at;
    EXPECT_TRUE(TempLeftovers(ws_).empty()) << "fail_at " << fail_at;
  }
}

TEST_F(AtomicityTest, StagingFailureInUnwritableDirectoryChangesNothing) {
  MakeFiftyFiles(ws_);
  // A path whose parent is a file cannot be staged, even as root.
  Put(ws_ / "blocker", "I am a file\n");
  auto before = Snapshot(ws_);
  std::string patch = FiftyFilePatch(false);
  patch.insert(patch.rfind("*** End Patch"), "*** Add File: blocker/child.txt\n+x\n");
  auto r = ApplyPatch(ctx(), PatchParams(patch));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(Snapshot(ws_), before);
  EXPECT_TRUE(TempLeftovers(ws_).empty());
}

// A directory the applying user cannot write (EACCES while staging). As root, the patch is
// applied by a child that drops to an unprivileged uid, since root ignores permission bits.
TEST_F(AtomicityTest, ReadOnlyDirectoryChangesNothing) {
  MakeFiftyFiles(ws_);
  const uid_t nobody = 65534;
  if (::geteuid() == 0) {
    for (auto& e : fs::recursive_directory_iterator(base_)) ASSERT_EQ(::lchown(e.path().c_str(), nobody, nobody), 0);
    ASSERT_EQ(::chown(base_.c_str(), nobody, nobody), 0);
  }
  ::chmod((ws_ / "d3").c_str(), 0555);
  auto before = Snapshot(ws_);
  int kind = -1;
  if (::geteuid() == 0) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      if (::setresgid(nobody, nobody, nobody) != 0 || ::setresuid(nobody, nobody, nobody) != 0) ::_exit(100);
      auto r = ApplyPatch(ctx(), PatchParams(FiftyFilePatch(false)));
      ::_exit(r.ok() ? 101 : static_cast<int>(r.error().kind));
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    kind = WEXITSTATUS(status);
  } else {
    auto r = ApplyPatch(ctx(), PatchParams(FiftyFilePatch(false)));
    kind = r.ok() ? 101 : static_cast<int>(r.error().kind);
  }
  ::chmod((ws_ / "d3").c_str(), 0755);
  EXPECT_EQ(kind, static_cast<int>(ErrorKind::kPolicyDenied));
  EXPECT_EQ(Snapshot(ws_), before);
  EXPECT_TRUE(TempLeftovers(ws_).empty());
}

TEST_F(AtomicityTest, ProtectedFileInPatchChangesNothing) {
  MakeFiftyFiles(ws_);
  Put(ws_ / ".git" / "config", "[core]\n");
  auto before = Snapshot(ws_);
  std::string patch = FiftyFilePatch(false);
  patch.insert(patch.rfind("*** End Patch"), "*** Update File: .git/config\n@@\n-[core]\n+[evil]\n");
  auto r = ApplyPatch(ctx(), PatchParams(patch));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kPolicyDenied);
  EXPECT_EQ(Snapshot(ws_), before);
}

TEST_F(AtomicityTest, CancellationChangesNothing) {
  MakeFiftyFiles(ws_);
  auto before = Snapshot(ws_);
  std::atomic<bool> cancel{true};
  FsContext c(*policy_, &cancel);
  auto r = ApplyPatch(c, PatchParams(FiftyFilePatch(false)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kCancelled);
  EXPECT_EQ(Snapshot(ws_), before);
}

}  // namespace
}  // namespace cordon::ops::testing
