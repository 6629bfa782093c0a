// The escape cases of the file methods, tried for real through `cordon serve` and the session's
// sandboxed worker. Each refusal is paired with a control that shows the same request succeeds
// inside the workspace, and the outside trees are compared after every test (FilesTest). The
// outside tree is visible (read-only) inside the sandbox - exec's `cat` reads it - so a refusal
// here comes from the file methods' own containment, not from the file being absent.
#include <atomic>
#include <thread>

#include "tests/integration/files/files_fixture.h"

namespace cordon::files_test {
namespace {

std::string CodexUpdate(const std::string& path, const std::string& from, const std::string& to) {
  return "*** Begin Patch\n*** Update File: " + path + "\n@@\n-" + from + "\n+" + to + "\n*** End Patch\n";
}

using FilesEscapeTest = FilesTest;

TEST_F(FilesEscapeTest, OutsideTreeIsVisibleToTheSandboxButNotWritable) {
  // The premise of the cases below: the probe target exists for the sandbox.
  Json r = Exec("cat '" + (outside_ / "secret.txt").string() + "'");
  EXPECT_EQ(r.value("stdout", ""), "outside secret\n") << r.dump();
  // The kernel layer: a command cannot write there either (read-only bind of /).
  r = Exec("echo pwned > '" + (outside_ / "secret.txt").string() + "'");
  EXPECT_NE(r["result"].value("exitCode", 0), 0) << r.dump();
  r = Exec("echo fine > ./made-by-exec.txt");
  EXPECT_EQ(r["result"].value("exitCode", -1), 0) << r.dump();
  EXPECT_EQ(Get(ws_ / "made-by-exec.txt"), "fine\n");
}

TEST_F(FilesEscapeTest, SymlinkToOutsideFile) {
  fs::create_symlink(outside_ / "secret.txt", ws_ / "link");
  Put(ws_ / "real.txt", "inside\n");
  fs::create_symlink("real.txt", ws_ / "inner-link");
  EXPECT_DENIED(Read("link"));
  Json meta = Call("fs/getMetadata", {{"path", "link"}});  // reported, not followed
  EXPECT_OK(meta);
  EXPECT_EQ(meta["result"].value("type", ""), "symlink") << meta.dump();
  EXPECT_FALSE(meta["result"].contains("sha256")) << meta.dump();
  Json ok = Read("inner-link");  // control: a symlink that stays inside is followed
  EXPECT_OK(ok);
  EXPECT_EQ(ok["result"].value("content", ""), "inside\n");
  EXPECT_REFUSED(Patch(CodexUpdate("link", "outside secret", "pwned")));
  EXPECT_REFUSED(Patch("--- a/link\n+++ b/link\n@@ -1 +1 @@\n-outside secret\n+pwned\n"));
  EXPECT_OK(Patch(CodexUpdate("real.txt", "inside", "changed")));
  EXPECT_EQ(Get(ws_ / "real.txt"), "changed\n");
  // Listing reports the link as a link and does not follow it.
  Json listing = List(".");
  EXPECT_OK(listing);
  bool seen = false;
  for (const auto& e : listing["result"]["entries"])
    if (e["name"] == "link") seen = e["type"] == "symlink";
  EXPECT_TRUE(seen) << listing.dump();
  // A write replaces the link itself with a regular file; the target is never opened.
  EXPECT_OK(Write("link"));
  EXPECT_FALSE(fs::is_symlink(ws_ / "link"));
  EXPECT_EQ(Get(ws_ / "link"), "pwned\n");
}

TEST_F(FilesEscapeTest, SymlinkToOutsideDirectory) {
  fs::create_directory_symlink(outside_, ws_ / "out");
  Put(ws_ / "in" / "secret.txt", "outside secret\n");
  EXPECT_DENIED(Read("out/secret.txt"));
  EXPECT_OK(Read("in/secret.txt"));
  EXPECT_DENIED(List("out"));
  EXPECT_DENIED(List("out/"));
  EXPECT_OK(List("in"));
  Json deep = List(".", 4);  // recursion never enters the link
  EXPECT_OK(deep);
  for (const auto& e : deep["result"]["entries"]) EXPECT_NE(e["name"], "out/secret.txt");
  EXPECT_DENIED(Write("out/new.txt"));
  EXPECT_DENIED(Write("out/deeper/new.txt", "x", true));
  EXPECT_OK(Write("in/new.txt"));
  EXPECT_DENIED(Patch(CodexUpdate("out/secret.txt", "outside secret", "pwned")));
  EXPECT_DENIED(Patch("*** Begin Patch\n*** Add File: out/added.txt\n+x\n*** End Patch\n"));
  EXPECT_DENIED(Patch("*** Begin Patch\n*** Delete File: out/secret.txt\n*** End Patch\n"));
  EXPECT_DENIED(Patch("--- a/out/secret.txt\n+++ b/out/secret.txt\n@@ -1 +1 @@\n-outside secret\n+pwned\n"));
  EXPECT_OK(Patch(CodexUpdate("in/secret.txt", "outside secret", "fine")));
  EXPECT_EQ(Get(ws_ / "in" / "secret.txt"), "fine\n");
}

TEST_F(FilesEscapeTest, SiblingWithCommonPrefix) {
  const std::string evil = (evil_ / "evil.txt").string();
  EXPECT_DENIED(Read(evil));
  EXPECT_DENIED(List(evil_.string()));
  EXPECT_DENIED(Call("fs/getMetadata", {{"path", evil}}));
  EXPECT_DENIED(Write(evil));
  EXPECT_DENIED(Write((evil_ / "new.txt").string()));
  EXPECT_DENIED(Patch(CodexUpdate(evil, "evil", "pwned")));
  EXPECT_DENIED(Patch("*** Begin Patch\n*** Add File: " + (evil_ / "added").string() + "\n+x\n*** End Patch\n"));
  Put(ws_ / "ok.txt", "x\n");
  EXPECT_OK(Read((ws_ / "ok.txt").string()));  // control: the workspace by absolute path
  EXPECT_OK(Write((ws_ / "ok2.txt").string()));
}

TEST_F(FilesEscapeTest, DotDot) {
  fs::create_directories(ws_ / "a");
  EXPECT_DENIED(Read("../outside/secret.txt"));
  EXPECT_DENIED(Read("a/../../outside/secret.txt"));
  EXPECT_DENIED(Read((ws_ / ".." / "outside" / "secret.txt").string()));
  EXPECT_DENIED(List(".."));
  EXPECT_DENIED(Write("../outside/secret.txt"));
  EXPECT_DENIED(Write("../outside/new.txt"));
  EXPECT_DENIED(Patch("--- a/../outside/secret.txt\n+++ b/../outside/secret.txt\n@@ -1 +1 @@\n-outside secret\n+pwned\n"));
  Put(ws_ / "a.txt", "a\n");
  EXPECT_DENIED(Patch("*** Begin Patch\n*** Update File: a.txt\n*** Move to: ../outside/moved\n*** End Patch\n"));
  EXPECT_EQ(Get(ws_ / "a.txt"), "a\n");
  fs::create_symlink("../outside/secret.txt", ws_ / "climb");
  EXPECT_DENIED(Read("climb"));
  Put(ws_ / "a" / "b.txt", "b\n");
  fs::create_symlink("../a/b.txt", ws_ / "a" / "sibling");
  EXPECT_OK(Read("a/sibling"));  // control: ".." inside a link that stays beneath the root
}

TEST_F(FilesEscapeTest, ProcSelfRoot) {
  const std::string via_proc = "/proc/self/root" + (outside_ / "secret.txt").string();
  EXPECT_DENIED(Read(via_proc));
  EXPECT_DENIED(Write(via_proc));
  EXPECT_DENIED(Patch(CodexUpdate(via_proc, "outside secret", "pwned")));
  fs::create_symlink(via_proc, ws_ / "proc-link");
  EXPECT_DENIED(Read("proc-link"));
  fs::create_directory_symlink("/proc/self/root", ws_ / "rootlink");
  EXPECT_DENIED(Read("rootlink" + (outside_ / "secret.txt").string()));
  EXPECT_DENIED(List("rootlink"));
  EXPECT_REFUSED(Patch(CodexUpdate("rootlink" + (outside_ / "secret.txt").string(), "outside secret", "pwned")));
  // The workspace through /proc/self/root is refused too, though it is the same file: magic
  // links are never followed.
  Put(ws_ / "mine.txt", "mine\n");
  EXPECT_DENIED(Read("/proc/self/root" + (ws_ / "mine.txt").string()));
  EXPECT_OK(Read((ws_ / "mine.txt").string()));  // control
}

// A hardlink in the workspace shares its inode with a file outside. The name is inside, so it
// may be read (as `cat` in the sandbox could), but writes and patches replace the name with a
// new file and never write through to the shared inode.
TEST_F(FilesEscapeTest, HardlinkToOutsideFileIsReplacedNotModified) {
  std::error_code ec;
  fs::create_hard_link(outside_ / "secret.txt", ws_ / "hard", ec);
  if (ec) GTEST_SKIP() << "cannot hardlink here: " << ec.message();
  EXPECT_OK(Write("hard"));
  EXPECT_EQ(Get(ws_ / "hard"), "pwned\n");
  fs::remove(ws_ / "hard");
  fs::create_hard_link(outside_ / "secret.txt", ws_ / "hard");
  EXPECT_OK(Patch(CodexUpdate("hard", "outside secret", "patched")));
  EXPECT_EQ(Get(ws_ / "hard"), "patched\n");
  fs::remove(ws_ / "hard");
  fs::create_hard_link(outside_ / "secret.txt", ws_ / "hard");
  EXPECT_OK(Patch("--- a/hard\n+++ b/hard\n@@ -1 +1 @@\n-outside secret\n+unified\n"));
  EXPECT_EQ(Get(ws_ / "hard"), "unified\n");
  fs::remove(ws_ / "hard");
  fs::create_hard_link(outside_ / "secret.txt", ws_ / "hard");
  EXPECT_OK(Patch("*** Begin Patch\n*** Delete File: hard\n*** End Patch\n"));
  EXPECT_FALSE(fs::exists(ws_ / "hard"));
  // The outside file keeps its content (checked again in TearDown) and its link count.
  EXPECT_EQ(fs::hard_link_count(outside_ / "secret.txt"), 1u);
}

TEST_F(FilesEscapeTest, ReadDeniedAndProtectedThroughInRootSymlinks) {
  Put(ws_ / ".git" / "config", "[core]\n");
  fs::create_directory_symlink(".git", ws_ / "gitalias");
  EXPECT_DENIED(Write("gitalias/config", "[evil]\n"));
  EXPECT_DENIED(Write(".git/config", "[evil]\n"));
  EXPECT_DENIED(Patch(CodexUpdate("gitalias/config", "[core]", "[evil]")));
  EXPECT_EQ(Get(ws_ / ".git" / "config"), "[core]\n");
  EXPECT_OK(Read(".git/config"));  // control: protected is still readable
}

// A thread swaps ws/sub between a real directory and a symlink to a decoy tree outside, in a
// loop, while writes, patches and reads go through ws/sub in the sandbox (pipelined, many in
// flight). Each may succeed (on the real directory) or be refused; the decoy is never touched
// and never read.
TEST_F(FilesEscapeTest, DirectorySwappedForSymlinkWhilePatchesApply) {
  const fs::path decoy = base_ / "decoy";
  Put(decoy / "f.txt", "pwned\ndecoy-marker\n");
  Put(decoy / "decoy-only", "d\n");
  const auto decoy_before = Snapshot(decoy);
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
  int ok = 0, refused = 0;
  for (int round = 0; round < 6; ++round) {
    std::vector<std::pair<int64_t, std::string>> sent;
    for (int i = 0; i < 10; ++i) {
      std::string n = std::to_string(round * 10 + i);
      sent.push_back({client_->Send("fs/writeFile", {{"path", "sub/f.txt"}, {"content", "pwned\n"}}), "write"});
      sent.push_back({client_->Send("patch/apply", {{"patch", CodexUpdate("sub/f.txt", "pwned", "line")}}), "patch"});
      sent.push_back({client_->Send("patch/apply", {{"patch", "*** Begin Patch\n*** Add File: sub/new" + n +
                                                                  ".txt\n+x\n*** End Patch\n"}}), "add"});
      sent.push_back({client_->Send("patch/apply", {{"patch", "--- /dev/null\n+++ b/sub/u" + n + ".txt\n@@ -0,0 +1 @@\n+u\n"}}), "unified"});
      sent.push_back({client_->Send("fs/readFile", {{"path", "sub/f.txt"}}), "read"});
      sent.push_back({client_->Send("fs/readDirectory", {{"path", "sub"}}), "list"});
    }
    for (auto& [id, what] : sent) {
      auto reply = client_->Wait(id);
      ASSERT_TRUE(reply) << "no reply to " << what << "\n" << client_->Log();
      if (Kind(*reply).empty()) {
        ++ok;
        if (what == "read") {
          EXPECT_EQ((*reply)["result"]["content"].get<std::string>().find("decoy-marker"), std::string::npos);
        }
        if (what == "list") {
          for (const auto& e : (*reply)["result"]["entries"]) EXPECT_NE(e["name"], "decoy-only");
        }
      } else {
        ++refused;
        EXPECT_NE(Kind(*reply), "code -32603") << what << ": " << reply->dump();
        EXPECT_NE(Kind(*reply), "sandbox_failed") << what << ": " << reply->dump();
      }
    }
  }
  stop = true;
  swapper.join();
  EXPECT_GT(swaps.load(), 0);
  EXPECT_GT(ok, 0);
  EXPECT_EQ(Snapshot(decoy), decoy_before) << "the decoy outside the workspace was written";
  std::printf("swap race: %d swaps, %d operations succeeded, %d refused\n", swaps.load(), ok, refused);
}

}  // namespace
}  // namespace cordon::files_test
