// Escape attempts at the ops layer, each paired with a control that shows the same operation
// succeeds on an allowed path (so a test cannot pass because the probe itself is broken).
// Nothing outside the roots may be read or written: the outside tree is checked afterwards.
#include <thread>

#include "sandbox/ops/path_resolver.h"
#include "tests/unit/ops/ops_test_util.h"

namespace cordon::ops::testing {
namespace {

class EscapeTest : public TempTree {
 protected:
  void TearDown() override {
    ExpectOutsideUntouched();
    ForceNoOpenat2ForTesting(false);
    TempTree::TearDown();
  }
  Result<ReadFileResult> Read(const std::string& p) {
    ReadFileParams params;
    params.path = p;
    return ReadFile(ctx(), params);
  }
  Result<WriteFileResult> Write(const std::string& p, bool parents = false) {
    WriteFileParams params;
    params.path = p;
    params.content = "pwned\n";
    params.createParents = parents;
    return WriteFile(ctx(), params);
  }
  Result<ApplyPatchResult> Patch(const std::string& text) { return ApplyPatch(ctx(), PatchParams(text)); }
  Result<ReadDirectoryResult> List(const std::string& p) {
    ReadDirectoryParams params;
    params.path = p;
    return ReadDirectory(ctx(), params);
  }
};

#define EXPECT_DENIED(expr)                                                        \
  do {                                                                             \
    auto r_ = (expr);                                                              \
    ASSERT_FALSE(r_.ok()) << #expr << " succeeded";                                \
    EXPECT_EQ(r_.error().kind, ErrorKind::kPolicyDenied) << r_.error().detail;     \
  } while (0)

// Refused for a reason other than policy (e.g. "a symlink is never patched through").
#define EXPECT_REFUSED(expr)                                                       \
  do {                                                                             \
    auto r_ = (expr);                                                              \
    ASSERT_FALSE(r_.ok()) << #expr << " succeeded";                                \
    EXPECT_NE(r_.error().kind, ErrorKind::kInternal) << r_.error().detail;         \
  } while (0)

#define EXPECT_GRANTED(expr)                                                       \
  do {                                                                             \
    auto r_ = (expr);                                                              \
    EXPECT_TRUE(r_.ok()) << #expr << ": " << (r_.ok() ? "" : r_.error().detail);   \
  } while (0)

std::string CodexUpdate(const std::string& path, const std::string& from, const std::string& to) {
  return "*** Begin Patch\n*** Update File: " + path + "\n@@\n-" + from + "\n+" + to + "\n*** End Patch\n";
}

TEST_F(EscapeTest, SymlinkToOutsideFile) {
  fs::create_symlink(outside_ / "secret.txt", ws_ / "link");
  Put(ws_ / "real.txt", "inside\n");
  fs::create_symlink("real.txt", ws_ / "inner-link");
  EXPECT_DENIED(Read("link"));
  EXPECT_GRANTED(Read("inner-link"));  // control: a symlink that stays inside is followed
  EXPECT_REFUSED(Patch(CodexUpdate("link", "outside secret", "pwned")));
  EXPECT_GRANTED(Patch(CodexUpdate("real.txt", "inside", "changed")));
  // A write replaces the link itself with a regular file; the target is never opened.
  EXPECT_GRANTED(Write("link"));
  EXPECT_FALSE(fs::is_symlink(ws_ / "link"));
  EXPECT_EQ(Get(ws_ / "link"), "pwned\n");
}

TEST_F(EscapeTest, SymlinkToOutsideDirectory) {
  fs::create_directory_symlink(outside_, ws_ / "out");
  fs::create_directories(ws_ / "in");
  Put(ws_ / "in" / "secret.txt", "outside secret\n");
  EXPECT_DENIED(Read("out/secret.txt"));
  EXPECT_GRANTED(Read("in/secret.txt"));
  EXPECT_DENIED(List("out"));
  EXPECT_GRANTED(List("in"));
  EXPECT_DENIED(Write("out/new.txt"));
  EXPECT_DENIED(Write("out/deeper/new.txt", true));
  EXPECT_GRANTED(Write("in/new.txt"));
  EXPECT_DENIED(Patch(CodexUpdate("out/secret.txt", "outside secret", "pwned")));
  EXPECT_DENIED(Patch("*** Begin Patch\n*** Add File: out/added.txt\n+x\n*** End Patch\n"));
  EXPECT_DENIED(Patch("*** Begin Patch\n*** Delete File: out/secret.txt\n*** End Patch\n"));
  EXPECT_DENIED(Patch("--- a/out/secret.txt\n+++ b/out/secret.txt\n@@ -1 +1 @@\n-outside secret\n+pwned\n"));
  EXPECT_GRANTED(Patch(CodexUpdate("in/secret.txt", "outside secret", "fine")));
}

TEST_F(EscapeTest, SiblingWithCommonPrefix) {
  EXPECT_DENIED(Read((evil_ / "evil.txt").string()));
  EXPECT_DENIED(Write((evil_ / "evil.txt").string()));
  EXPECT_DENIED(Patch(CodexUpdate((evil_ / "evil.txt").string(), "evil", "pwned")));
  Put(ws_ / "ok.txt", "x\n");
  EXPECT_GRANTED(Read((ws_ / "ok.txt").string()));
}

TEST_F(EscapeTest, DotDot) {
  fs::create_directories(ws_ / "a");
  EXPECT_DENIED(Read("../outside/secret.txt"));
  EXPECT_DENIED(Read("a/../../outside/secret.txt"));
  EXPECT_DENIED(Read((ws_ / ".." / "outside" / "secret.txt").string()));
  EXPECT_DENIED(Write("../outside/secret.txt"));
  EXPECT_DENIED(Patch("--- a/../outside/secret.txt\n+++ b/../outside/secret.txt\n@@ -1 +1 @@\n-outside secret\n+pwned\n"));
  Put(ws_ / "a.txt", "a\n");
  EXPECT_DENIED(Patch("*** Begin Patch\n*** Update File: a.txt\n*** Move to: ../outside/moved\n*** End Patch\n"));
  // A symlink whose target climbs out with "..".
  fs::create_symlink("../outside/secret.txt", ws_ / "climb");
  EXPECT_DENIED(Read("climb"));
  Put(ws_ / "a" / "b.txt", "b\n");
  fs::create_symlink("../a/b.txt", ws_ / "a" / "sibling");
  EXPECT_GRANTED(Read("a/sibling"));  // ".." inside a link that stays beneath the root
}

TEST_F(EscapeTest, ProcSelfRoot) {
  const std::string via_proc = "/proc/self/root" + (outside_ / "secret.txt").string();
  EXPECT_DENIED(Read(via_proc));
  EXPECT_DENIED(Write(via_proc));
  fs::create_symlink(via_proc, ws_ / "proc-link");
  EXPECT_DENIED(Read("proc-link"));
  fs::create_directory_symlink("/proc/self/root", ws_ / "rootlink");
  EXPECT_DENIED(Read("rootlink" + (outside_ / "secret.txt").string()));
  // Even with "/" as a root (danger-full-access), the magic link is not followed.
  auto full = PolicyBuilder().Mode(SandboxMode::kDangerFullAccess).WorkspaceRoot(ws_.string()).Build();
  ASSERT_TRUE(full.ok());
  FsContext c(*full);
  ReadFileParams p;
  p.path = via_proc;
  auto r = ReadFile(c, p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kPolicyDenied) << r.error().detail;
  p.path = (outside_ / "secret.txt").string();
  EXPECT_TRUE(ReadFile(c, p).ok());  // control: the same file by its real path
}

TEST_F(EscapeTest, HardlinkToOutsideFileIsReplacedNotModified) {
  fs::create_hard_link(outside_ / "secret.txt", ws_ / "hard");
  EXPECT_GRANTED(Write("hard"));
  EXPECT_EQ(Get(ws_ / "hard"), "pwned\n");
  fs::remove(ws_ / "hard");
  fs::create_hard_link(outside_ / "secret.txt", ws_ / "hard");
  EXPECT_GRANTED(Patch(CodexUpdate("hard", "outside secret", "patched")));
  EXPECT_EQ(Get(ws_ / "hard"), "patched\n");
  fs::remove(ws_ / "hard");
  fs::create_hard_link(outside_ / "secret.txt", ws_ / "hard");
  EXPECT_GRANTED(Patch("*** Begin Patch\n*** Delete File: hard\n*** End Patch\n"));
  EXPECT_FALSE(fs::exists(ws_ / "hard"));
}

TEST_F(EscapeTest, InRootSymlinkToReadDeniedOrProtectedPath) {
  Put(ws_ / "keys" / "id_rsa", "PRIVATE\n");
  Put(ws_ / ".git" / "config", "[core]\n");
  auto p = PolicyBuilder().WorkspaceRoot(ws_.string()).ReadDeny((ws_ / "keys").string()).Build();
  ASSERT_TRUE(p.ok()) << p.error().detail;
  FsContext c(*p);
  fs::create_directory_symlink("keys", ws_ / "alias");
  fs::create_directory_symlink(".git", ws_ / "gitalias");
  ReadFileParams rp;
  rp.path = "keys/id_rsa";
  EXPECT_EQ(ReadFile(c, rp).error().kind, ErrorKind::kPolicyDenied);
  rp.path = "alias/id_rsa";
  EXPECT_EQ(ReadFile(c, rp).error().kind, ErrorKind::kPolicyDenied);
  ReadDirectoryParams dp;
  dp.path = ".";
  auto listing = ReadDirectory(c, dp);
  ASSERT_TRUE(listing.ok());
  for (const auto& e : listing->entries) EXPECT_NE(e.name, "keys");
  WriteFileParams wp;
  wp.path = "gitalias/config";
  wp.content = "[evil]\n";
  EXPECT_EQ(WriteFile(c, wp).error().kind, ErrorKind::kPolicyDenied);
  EXPECT_EQ(ApplyPatch(c, PatchParams(CodexUpdate("gitalias/config", "[core]", "[evil]"))).error().kind,
            ErrorKind::kPolicyDenied);
  EXPECT_EQ(Get(ws_ / ".git" / "config"), "[core]\n");
  rp.path = ".git/config";
  EXPECT_TRUE(ReadFile(c, rp).ok());  // control: protected is still readable
}

TEST_F(EscapeTest, WalkFallbackWithoutOpenat2RefusesSymlinks) {
  ForceNoOpenat2ForTesting(true);
  fs::create_directory_symlink(outside_, ws_ / "out");
  Put(ws_ / "d" / "f.txt", "f\n");
  EXPECT_DENIED(Read("out/secret.txt"));
  EXPECT_DENIED(Write("out/x"));
  EXPECT_DENIED(List("out"));
  EXPECT_DENIED(Patch(CodexUpdate("out/secret.txt", "outside secret", "pwned")));
  EXPECT_GRANTED(Read("d/f.txt"));
  EXPECT_GRANTED(List("d"));
  EXPECT_GRANTED(Patch(CodexUpdate("d/f.txt", "f", "g")));
  EXPECT_EQ(Get(ws_ / "d/f.txt"), "g\n");
}

// A thread swaps ws/sub between a real directory and a symlink to a decoy tree outside, in a
// loop, while writes, patches and reads go through ws/sub. Each operation may succeed (on the
// real directory) or be refused, but the decoy must never be read or written.
TEST_F(EscapeTest, DirectorySwappedForSymlinkDuringOperations) {
  const fs::path decoy = base_ / "decoy";
  // Patchable (its first line is "pwned") and recognisable when read.
  Put(decoy / "f.txt", "pwned\ndecoy-marker\n");
  Put(ws_ / "sub" / "f.txt", "line\n");
  std::atomic<bool> stop{false};
  std::atomic<int> swaps{0};
  std::thread swapper([&] {
    const fs::path sub = ws_ / "sub", real = ws_ / "sub.real";
    while (!stop) {
      std::error_code ec;
      fs::rename(sub, real, ec);
      fs::create_directory_symlink(decoy, sub, ec);
      std::this_thread::yield();
      fs::remove(sub, ec);
      fs::rename(real, sub, ec);
      ++swaps;
    }
  });
  int ok = 0;
  // At least 400 rounds, and on until the swapper has really raced them: on a loaded machine the
  // swapper thread may barely run during the first rounds.
  for (int i = 0; i < 400 || (swaps.load() < 50 && i < 200000); ++i) {
    auto w = Write("sub/f.txt");
    auto p = Patch("*** Begin Patch\n*** Update File: sub/f.txt\n@@\n-pwned\n+line\n*** End Patch\n");
    auto a = Patch("*** Begin Patch\n*** Add File: sub/new" + std::to_string(i) + ".txt\n+x\n*** End Patch\n");
    auto r = Read("sub/f.txt");
    if (r.ok()) {
      EXPECT_EQ(r->content.find("decoy-marker"), std::string::npos);
    }
    for (const Status& s : {w.ok() ? OkStatus() : Status(w.error()), p.ok() ? OkStatus() : Status(p.error()),
                            a.ok() ? OkStatus() : Status(a.error())}) {
      if (s.ok()) ++ok;
      else EXPECT_NE(s.error().kind, ErrorKind::kInternal) << s.error().detail;
    }
  }
  stop = true;
  swapper.join();
  EXPECT_GE(swaps.load(), 50);
  EXPECT_GT(ok, 0);
  EXPECT_EQ(Get(decoy / "f.txt"), "pwned\ndecoy-marker\n");
  std::vector<std::string> names;
  for (auto& e : fs::directory_iterator(decoy)) names.push_back(e.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"f.txt"});
}

}  // namespace
}  // namespace cordon::ops::testing
