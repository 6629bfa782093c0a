// The native file methods (PROTOCOL.md §6) through `cordon serve`: binding errors name the
// field, results have the documented shape, writes are atomic and guarded by expectedSha256,
// patch/apply is all or nothing (a failing last hunk of 50 files, a protected .git file, a
// cancellation), and sessionId selects the session whose policy applies.
#include <openssl/sha.h>

#include <cstdio>

#include "tests/integration/files/files_fixture.h"

namespace cordon::files_test {
namespace {

std::string Sha256Hex(const std::string& s) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  std::string out;
  char b[3];
  for (unsigned char c : d) {
    std::snprintf(b, sizeof(b), "%02x", c);
    out += b;
  }
  return out;
}

using FilesProtocolTest = FilesTest;

TEST_F(FilesProtocolTest, WriteReadMetadataAndListRoundTrip) {
  const std::string text = "alpha\nbeta\r\ngamma";
  Json w = Call("fs/writeFile", {{"path", "src/a.txt"}, {"content", text}, {"createParents", true}});
  ASSERT_TRUE(w.contains("result")) << w.dump();
  EXPECT_EQ(w["result"]["sha256"], Sha256Hex(text));
  EXPECT_EQ(Get(ws_ / "src" / "a.txt"), text);
  EXPECT_EQ(TempLeftovers(ws_), 0);

  Json r = Read("src/a.txt");
  ASSERT_TRUE(r.contains("result")) << r.dump();
  const Json& res = r["result"];
  EXPECT_EQ(res["content"], text);
  EXPECT_EQ(res["encoding"], "utf8");
  EXPECT_EQ(res["totalLines"], 3);
  EXPECT_EQ(res["startLine"], 1);
  EXPECT_EQ(res["endLine"], 3);
  EXPECT_EQ(res["truncated"], false);
  EXPECT_EQ(res["size"], text.size());
  EXPECT_EQ(res["sha256"], Sha256Hex(text));

  r = Call("fs/readFile", {{"path", (ws_ / "src/a.txt").string()}, {"offset", 2}, {"limit", 1}});
  EXPECT_EQ(r["result"]["content"], "beta\r\n");
  EXPECT_EQ(r["result"]["startLine"], 2);
  EXPECT_EQ(r["result"]["endLine"], 2);
  EXPECT_EQ(r["result"]["sha256"], Sha256Hex(text));  // always of the whole file

  r = Call("fs/readFile", {{"path", "src/a.txt"}, {"encoding", "base64"}, {"offset", 6}, {"limit", 4}});
  EXPECT_EQ(r["result"]["content"], "YmV0YQ==");  // "beta"
  EXPECT_EQ(r["result"]["encoding"], "base64");

  Json m = Call("fs/getMetadata", {{"path", "src/a.txt"}});
  EXPECT_EQ(m["result"]["type"], "file");
  EXPECT_EQ(m["result"]["size"], text.size());
  EXPECT_EQ(m["result"]["sha256"], Sha256Hex(text));
  EXPECT_TRUE(m["result"]["mtimeMs"].is_number_integer());

  Put(ws_ / "src" / "deep" / "b.txt", "b\n");
  Json l = List(".", 3);
  ASSERT_TRUE(l.contains("result")) << l.dump();
  std::vector<std::string> names;
  for (const auto& e : l["result"]["entries"]) names.push_back(e["name"].get<std::string>() + ":" + e["type"].get<std::string>());
  EXPECT_EQ(names, (std::vector<std::string>{"src:dir", "src/a.txt:file", "src/deep:dir", "src/deep/b.txt:file"}));
}

TEST_F(FilesProtocolTest, BadParamsAreInvalidParamsNamingTheField) {
  struct Case {
    const char* method;
    Json params;
    const char* field;
  };
  const Case cases[] = {
      {"fs/readFile", Json::object(), "path"},
      {"fs/readFile", {{"path", 7}}, "path"},
      {"fs/readFile", {{"path", "a"}, {"offset", "x"}}, "offset"},
      {"fs/readFile", {{"path", "a"}, {"encoding", "latin1"}}, "encoding"},
      {"fs/readDirectory", {{"path", "."}, {"depth", 0}}, "depth"},
      {"fs/getMetadata", {{"paht", "a"}}, "path"},
      {"fs/writeFile", {{"path", "a"}}, "content"},
      {"fs/writeFile", {{"path", "a"}, {"content", "x"}, {"createParents", "yes"}}, "createParents"},
      {"patch/apply", {{"patch", "x"}, {"format", "svn"}}, "format"},
      {"patch/apply", {{"patch", "x"}, {"dryRun", 1}}, "dryRun"},
      {"patch/apply", {{"patch", "x"}, {"sessionId", 5}}, "sessionId"},
  };
  for (const auto& c : cases) {
    Json r = Call(c.method, c.params);
    ASSERT_TRUE(r.contains("error")) << c.method << " " << c.params.dump();
    EXPECT_EQ(r["error"]["code"], -32602) << r.dump();
    EXPECT_NE(r["error"]["message"].get<std::string>().find(c.field), std::string::npos) << r.dump();
  }
  // Control: the same methods with good params succeed.
  Put(ws_ / "a", "a\n");
  EXPECT_OK(Call("fs/readFile", {{"path", "a"}, {"offset", 1}}));
  EXPECT_OK(Call("fs/getMetadata", {{"path", "a"}}));
}

TEST_F(FilesProtocolTest, ErrorsCarryTheirKind) {
  EXPECT_KIND(Read("missing.txt"), "not_found");
  EXPECT_KIND(Call("fs/readFile", {{"path", "a"}, {"sessionId", "no-such-session"}}), "not_found");
  Json r = Read("missing.txt");
  EXPECT_EQ(r["error"]["code"], -32011);
  EXPECT_DENIED(Read("/etc/hostname"));
  EXPECT_EQ(Read("/etc/hostname")["error"]["code"], -32010);
}

TEST_F(FilesProtocolTest, ExpectedSha256GuardsAgainstAConcurrentEdit) {
  Put(ws_ / "f.txt", "v1\n");
  Json r = Call("fs/writeFile", {{"path", "f.txt"}, {"content", "v2\n"}, {"expectedSha256", Sha256Hex("other\n")}});
  EXPECT_KIND(r, "conflict");
  EXPECT_EQ(r["error"]["code"], -32012);
  EXPECT_EQ(Get(ws_ / "f.txt"), "v1\n");
  EXPECT_KIND(Call("fs/writeFile", {{"path", "new.txt"}, {"content", "x"}, {"expectedSha256", Sha256Hex("")}}), "conflict");
  EXPECT_FALSE(fs::exists(ws_ / "new.txt"));
  // Control: the current hash lets the write through.
  EXPECT_OK(Call("fs/writeFile", {{"path", "f.txt"}, {"content", "v2\n"}, {"expectedSha256", Sha256Hex("v1\n")}}));
  EXPECT_EQ(Get(ws_ / "f.txt"), "v2\n");
  EXPECT_EQ(TempLeftovers(ws_), 0);
}

TEST_F(FilesProtocolTest, DryRunReportsAndChangesNothing) {
  Put(ws_ / "a.txt", "one\ntwo\n");
  Put(ws_ / "gone.txt", "bye\n");
  const std::string patch =
      "*** Begin Patch\n*** Update File: a.txt\n@@\n one\n-two\n+TWO\n*** Add File: b.txt\n+new\n"
      "*** Delete File: gone.txt\n*** End Patch\n";
  auto before = Snapshot(ws_);
  Json r = Patch(patch, true);
  ASSERT_TRUE(r.contains("result")) << r.dump();
  EXPECT_EQ(r["result"]["applied"], false);
  ASSERT_EQ(r["result"]["files"].size(), 3u) << r.dump();
  EXPECT_EQ(Snapshot(ws_), before);
  r = Patch(patch);  // control: the same patch for real
  EXPECT_EQ(r["result"]["applied"], true) << r.dump();
  EXPECT_EQ(Get(ws_ / "a.txt"), "one\nTWO\n");
  EXPECT_EQ(Get(ws_ / "b.txt"), "new\n");
  EXPECT_FALSE(fs::exists(ws_ / "gone.txt"));
}

// 50 files; the last hunk of the last file does not match. Nothing changes, the error names the
// file, and no temp file is left. Control: without the bad hunk all 50 change.
TEST_F(FilesProtocolTest, FiftyFilePatchWhoseLastHunkFailsChangesNothing) {
  std::string good, bad;
  for (int i = 0; i < 50; ++i) {
    std::string name = "pkg" + std::to_string(i % 5) + "/mod" + std::to_string(i) + ".py";
    std::string body;
    for (int l = 1; l <= 30; ++l) body += "line " + std::to_string(l) + " of " + std::to_string(i) + "\n";
    Put(ws_ / name, body);
    std::string hunk = "--- a/" + name + "\n+++ b/" + name + "\n@@ -9,3 +9,3 @@\n line 9 of " + std::to_string(i) +
                       "\n-line 10 of " + std::to_string(i) + "\n+line ten of " + std::to_string(i) + "\n line 11 of " +
                       std::to_string(i) + "\n";
    good += hunk;
    bad += hunk;
    if (i == 49) bad += "@@ -25,2 +25,2 @@\n-no such line\n+x\n line 26 of 49\n";
  }
  auto before = Snapshot(ws_);
  Json r = Patch(bad);
  EXPECT_KIND(r, "conflict");
  EXPECT_NE(Message(r).find("pkg4/mod49.py"), std::string::npos) << Message(r);
  EXPECT_EQ(Snapshot(ws_), before);
  EXPECT_EQ(TempLeftovers(ws_), 0);
  r = Patch(good);
  EXPECT_OK(r);
  EXPECT_EQ(r["result"]["files"].size(), 50u);
  EXPECT_NE(Get(ws_ / "pkg0/mod0.py").find("line ten of 0\n"), std::string::npos);
  EXPECT_NE(Get(ws_ / "pkg4/mod49.py").find("line ten of 49\n"), std::string::npos);
}

// A patch that touches a protected .git file changes nothing: the file methods refuse it, and
// the kernel's read-only bind of .git (made when the session starts, so .git exists first) is
// the second layer: a command cannot write there either.
class ProtectedGitTest : public FilesTest {
 protected:
  void PrepareWorkspace() override {
    Put(ws_ / "a.txt", "a\n");
    Put(ws_ / ".git" / "config", "[core]\n");
    Put(ws_ / ".git" / "hooks" / "pre-commit", "#!/bin/sh\nexit 0\n", 0755);
  }
};

TEST_F(ProtectedGitTest, PatchTouchingProtectedGitChangesNothing) {
  auto before = Snapshot(ws_);
  EXPECT_DENIED(Patch("*** Begin Patch\n*** Update File: a.txt\n@@\n-a\n+b\n*** Update File: .git/config\n@@\n-[core]\n"
                      "+[core]\n+\thooksPath = /tmp/evil\n*** End Patch\n"));
  EXPECT_DENIED(Patch("--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+b\n--- /dev/null\n+++ b/.git/hooks/post-checkout\n"
                      "@@ -0,0 +1 @@\n+evil\n"));
  EXPECT_DENIED(Patch("*** Begin Patch\n*** Update File: a.txt\n*** Move to: .git/hooks/a\n*** End Patch\n"));
  EXPECT_DENIED(Write(".git/hooks/pre-commit", "evil\n"));
  EXPECT_EQ(Snapshot(ws_), before);
  // Second layer: the kernel refuses a command's write into .git; control: a.txt is writable.
  Json r = Exec("echo evil >> .git/config");
  EXPECT_NE(r["result"].value("exitCode", 0), 0) << r.dump();
  EXPECT_EQ(Get(ws_ / ".git" / "config"), "[core]\n");
  r = Exec("echo more >> a.txt");
  EXPECT_EQ(r["result"].value("exitCode", -1), 0) << r.dump();
  EXPECT_OK(Patch("*** Begin Patch\n*** Update File: a.txt\n@@\n a\n-more\n+b\n*** End Patch\n"));
  EXPECT_EQ(Get(ws_ / "a.txt"), "a\nb\n");
}

// A large patch is cancelled right after it is sent. `$/cancelRequest` is used because its
// reply (-32800, or the result if the patch finished first) comes only once the operation is
// over, so the final tree can be checked without guessing when the worker is done. Whether the
// cancel lands before, during or after the commit, the tree is all-old or all-new, never mixed,
// and no temp file remains.
TEST_F(FilesProtocolTest, CancelledPatchLeavesEveryFileAsItWasOrAllApplied) {
  constexpr int kFiles = 400;
  std::string patch;
  for (int i = 0; i < kFiles; ++i) {
    std::string name = "d" + std::to_string(i % 10) + "/f" + std::to_string(i) + ".txt";
    Put(ws_ / name, "keep\nold " + std::to_string(i) + "\nkeep\n");
    patch += "--- a/" + name + "\n+++ b/" + name + "\n@@ -1,3 +1,3 @@\n keep\n-old " + std::to_string(i) + "\n+new " +
             std::to_string(i) + "\n keep\n";
  }
  auto before = Snapshot(ws_);
  int cancelled = 0, applied = 0;
  for (int round = 0; round < 3; ++round) {
    int64_t id = client_->Send("patch/apply", {{"patch", patch}});
    client_->Notify("$/cancelRequest", {{"id", id}});
    auto reply = client_->Wait(id);
    ASSERT_TRUE(reply) << client_->Log();
    int olds = 0, news = 0;
    for (int i = 0; i < kFiles; ++i) {
      std::string c = Get(ws_ / ("d" + std::to_string(i % 10)) / ("f" + std::to_string(i) + ".txt"));
      olds += c.find("old ") != std::string::npos;
      news += c.find("new ") != std::string::npos;
    }
    EXPECT_TRUE(olds == kFiles || news == kFiles) << "mixed tree: " << olds << " old, " << news << " new";
    EXPECT_EQ(TempLeftovers(ws_), 0);
    if (reply->contains("result")) {
      EXPECT_EQ(news, kFiles);
    } else {
      EXPECT_EQ((*reply)["error"]["code"], -32800) << reply->dump();
    }
    if (olds == kFiles) {
      ++cancelled;
      EXPECT_EQ(Snapshot(ws_), before);
    } else {
      ++applied;
      // Put the tree back for the next round.
      for (int i = 0; i < kFiles; ++i)
        Put(ws_ / ("d" + std::to_string(i % 10)) / ("f" + std::to_string(i) + ".txt"), "keep\nold " + std::to_string(i) + "\nkeep\n");
    }
  }
  std::printf("cancelled patch: %d rounds left unapplied, %d applied before the cancel landed\n", cancelled, applied);
  EXPECT_TRUE(client_->Call("ping", Json::object()).contains("result"));  // still serving
}

// Requests far larger than one worker IPC datagram (a 6 MiB write, a ~0.75 MiB patch) are
// carried to the confined child and applied; the session stays usable afterwards.
TEST_F(FilesProtocolTest, LargeWriteAndPatchCrossTheWorkerBoundary) {
  std::string big;
  while (big.size() < (6u << 20)) big += "a line of text that is written in one request\n";
  Json w = Call("fs/writeFile", {{"path", "big.txt"}, {"content", big}});
  ASSERT_TRUE(w.contains("result")) << w.dump().substr(0, 400);
  EXPECT_EQ(Get(ws_ / "big.txt"), big);
  std::string patch;
  std::string body(60, 'p');
  for (int i = 0; i < 300; ++i) {
    std::string name = "m/f" + std::to_string(i) + ".txt";
    std::string lines;
    for (int l = 0; l < 40; ++l) lines += body + std::to_string(l) + "\n";
    Put(ws_ / name, lines);
    patch += "--- a/" + name + "\n+++ b/" + name + "\n@@ -1,40 +1,40 @@\n";
    for (int l = 0; l < 40; ++l) patch += (l == 20 ? "-" : " ") + body + std::to_string(l) + "\n" + (l == 20 ? "+changed\n" : "");
  }
  ASSERT_GT(patch.size(), 512u << 10);  // several times a datagram's limit
  Json r = Patch(patch);
  EXPECT_OK(r);
  EXPECT_NE(Get(ws_ / "m/f299.txt").find("changed\n"), std::string::npos);
  EXPECT_OK(Read("big.txt"));  // control: the session is still alive
}

TEST_F(FilesProtocolTest, SessionIdSelectsTheSessionPolicy) {
  Put(ws_ / "a.txt", "a\n");
  Json s = Call("session/create", {{"policy", {{"mode", "read-only"}}}});
  ASSERT_TRUE(s.contains("result")) << s.dump();
  std::string id = s["result"]["sessionId"];
  EXPECT_DENIED(Call("fs/writeFile", {{"path", "a.txt"}, {"content", "x"}, {"sessionId", id}}));
  EXPECT_DENIED(Call("patch/apply", {{"patch", "*** Begin Patch\n*** Add File: n.txt\n+n\n*** End Patch\n"}, {"sessionId", id}}));
  EXPECT_OK(Call("fs/readFile", {{"path", "a.txt"}, {"sessionId", id}}));  // control: reading works there
  EXPECT_OK(Call("fs/writeFile", {{"path", "a.txt"}, {"content", "x"}}));   // control: the default session writes
  EXPECT_EQ(Get(ws_ / "a.txt"), "x");
  EXPECT_FALSE(fs::exists(ws_ / "n.txt"));
}

}  // namespace
}  // namespace cordon::files_test
