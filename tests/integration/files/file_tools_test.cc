// The MCP file tools and resources through `cordon serve`: listed with schemas, model-readable
// text with structuredContent on success, isError without structuredContent on refusals, and a
// model-style Codex patch that changes exactly the files it names.
#include "tests/integration/files/files_fixture.h"

namespace cordon::files_test {
namespace {

using FileToolsTest = FilesTest;

std::string Text(const Json& tool_result) {
  std::string out;
  if (tool_result.contains("content"))
    for (const auto& c : tool_result["content"]) out += c.value("text", "");
  return out;
}
bool IsError(const Json& r) { return r.value("isError", false); }

TEST_F(FileToolsTest, ToolsAreListedWithSchemasAndAnnotations) {
  Json r = Call("tools/list", Json::object());
  ASSERT_TRUE(r.contains("result")) << r.dump();
  std::map<std::string, Json> tools;
  for (const auto& t : r["result"]["tools"]) tools[t["name"]] = t;
  for (const char* name : {"read_file", "list_directory", "write_file", "apply_patch"}) {
    ASSERT_TRUE(tools.count(name)) << name;
    const Json& t = tools[name];
    EXPECT_FALSE(t.value("description", "").empty()) << name;
    EXPECT_EQ(t["inputSchema"]["type"], "object") << name;
    EXPECT_EQ(t["outputSchema"]["type"], "object") << name;
    EXPECT_TRUE(t["annotations"].contains("readOnlyHint")) << name;
  }
  EXPECT_TRUE(tools["read_file"]["annotations"]["readOnlyHint"].get<bool>());
  EXPECT_FALSE(tools["apply_patch"]["annotations"]["readOnlyHint"].get<bool>());
}

TEST_F(FileToolsTest, ReadFileNumbersLinesWithTrailer) {
  std::string body;
  for (int i = 1; i <= 5; ++i) body += "line " + std::to_string(i) + "\n";
  body += std::string(5000, 'x') + "\n";
  Put(ws_ / "src" / "m.py", body);
  Json r = client_->Tool("read_file", {{"path", "src/m.py"}, {"offset", 2}, {"limit", 2}});
  ASSERT_FALSE(IsError(r)) << r.dump();
  EXPECT_EQ(Text(r), "     2\tline 2\n     3\tline 3\n[lines 2-3 of 6] - call read_file again with offset=4 for more");
  EXPECT_EQ(r["structuredContent"]["content"], "line 2\nline 3\n");
  EXPECT_EQ(r["structuredContent"]["totalLines"], 6);
  EXPECT_EQ(r["structuredContent"]["sha256"].get<std::string>().size(), 64u);
  r = client_->Tool("read_file", {{"path", "src/m.py"}});
  std::string text = Text(r);
  EXPECT_NE(text.find("     6\txxxx"), std::string::npos);
  EXPECT_NE(text.find("[... line cut: 3000 more bytes]"), std::string::npos) << text.substr(text.size() - 200);
  EXPECT_NE(text.find("[lines 1-6 of 6]"), std::string::npos);
  // Refusals: isError, no structuredContent, text naming what went wrong.
  r = client_->Tool("read_file", {{"path", "src/missing.py"}});
  EXPECT_TRUE(IsError(r));
  EXPECT_FALSE(r.contains("structuredContent"));
  EXPECT_NE(Text(r).find("not_found"), std::string::npos) << Text(r);
  r = client_->Tool("read_file", {{"path", (outside_ / "secret.txt").string()}});
  EXPECT_TRUE(IsError(r));
  EXPECT_NE(Text(r).find("policy_denied"), std::string::npos) << Text(r);
  EXPECT_EQ(Text(r).find("outside secret"), std::string::npos);
  r = client_->Tool("read_file", Json::object());
  EXPECT_TRUE(IsError(r));
  EXPECT_NE(Text(r).find("path"), std::string::npos) << Text(r);
}

TEST_F(FileToolsTest, ListDirectoryAndWriteFile) {
  Put(ws_ / "a.txt", "abc");
  fs::create_directories(ws_ / "lib");
  fs::create_symlink("a.txt", ws_ / "alias");
  Json r = client_->Tool("list_directory", Json::object());
  ASSERT_FALSE(IsError(r)) << r.dump();
  EXPECT_EQ(Text(r), "a.txt (3 bytes)\nalias@\nlib/\n[3 entries]");
  EXPECT_EQ(r["structuredContent"]["entries"].size(), 3u);

  r = client_->Tool("write_file", {{"path", "lib/new/mod.rs"}, {"content", "fn main() {}\n"}});
  ASSERT_FALSE(IsError(r)) << r.dump();
  EXPECT_EQ(Get(ws_ / "lib" / "new" / "mod.rs"), "fn main() {}\n");
  std::string sha = r["structuredContent"]["sha256"];
  r = client_->Tool("write_file", {{"path", "lib/new/mod.rs"}, {"content", "x\n"}, {"expected_sha256", std::string(64, '0')}});
  EXPECT_TRUE(IsError(r));
  EXPECT_NE(Text(r).find("conflict"), std::string::npos) << Text(r);
  r = client_->Tool("write_file", {{"path", "lib/new/mod.rs"}, {"content", "x\n"}, {"expected_sha256", sha}});
  EXPECT_FALSE(IsError(r)) << r.dump();
  EXPECT_EQ(Get(ws_ / "lib" / "new" / "mod.rs"), "x\n");
  r = client_->Tool("write_file", {{"path", (evil_ / "x").string()}, {"content", "x"}});
  EXPECT_TRUE(IsError(r));
  EXPECT_NE(Text(r).find("writing under " + ws_.string()), std::string::npos) << Text(r);
}

// What a model writes: context hunks with @@ scope lines, an added file, a deleted file and a
// move, with trailing-whitespace drift in one context line. Exactly those files change.
TEST_F(FileToolsTest, ModelStyleCodexPatchChangesExactlyTheNamedFiles) {
  Put(ws_ / "app" / "server.py",
      "import os\n\n\nclass Server:\n    def __init__(self, port):\n        self.port = port\n\n"
      "    def start(self):\n        print(\"starting\")\n        return True\n\n\n"
      "def main():\n    Server(8080).start()\n");
  Put(ws_ / "app" / "util.py", "def helper():   \n    return 1\n");
  Put(ws_ / "app" / "old_name.py", "VALUE = 1\n");
  Put(ws_ / "app" / "obsolete.py", "raise SystemExit\n");
  Put(ws_ / "README.md", "# app\n");
  Put(ws_ / "app" / "untouched.py", "pass\n");
  auto before = Snapshot(ws_);
  const std::string patch =
      "*** Begin Patch\n"
      "*** Update File: app/server.py\n"
      "@@ class Server:\n"
      "     def start(self):\n"
      "-        print(\"starting\")\n"
      "+        print(f\"starting on {self.port}\")\n"
      "         return True\n"
      "@@ def main():\n"
      "-    Server(8080).start()\n"
      "+    Server(int(os.environ.get(\"PORT\", \"8080\"))).start()\n"
      "*** Update File: app/util.py\n"
      "@@\n"
      " def helper():\n"
      "-    return 1\n"
      "+    return 2\n"
      "*** Add File: app/config.py\n"
      "+PORT = 8080\n"
      "*** Delete File: app/obsolete.py\n"
      "*** Update File: app/old_name.py\n"
      "*** Move to: app/new_name.py\n"
      "@@\n"
      "-VALUE = 1\n"
      "+VALUE = 2\n"
      "*** End Patch";
  Json r = client_->Tool("apply_patch", {{"patch", patch}});
  ASSERT_FALSE(IsError(r)) << r.dump();
  EXPECT_EQ(r["structuredContent"]["applied"], true);
  EXPECT_EQ(r["structuredContent"]["files"].size(), 5u) << r.dump();
  EXPECT_NE(Text(r).find("M app/server.py (2 hunks)"), std::string::npos) << Text(r);
  EXPECT_NE(Text(r).find("R app/old_name.py -> app/new_name.py"), std::string::npos) << Text(r);

  auto after = Snapshot(ws_);
  auto expected = before;
  expected["app/server.py"] =
      "import os\n\n\nclass Server:\n    def __init__(self, port):\n        self.port = port\n\n"
      "    def start(self):\n        print(f\"starting on {self.port}\")\n        return True\n\n\n"
      "def main():\n    Server(int(os.environ.get(\"PORT\", \"8080\"))).start()\n|mode=420";
  expected["app/util.py"] = "def helper():   \n    return 2\n|mode=420";
  expected["app/config.py"] = "PORT = 8080\n|mode=420";
  expected.erase("app/obsolete.py");
  expected.erase("app/old_name.py");
  expected["app/new_name.py"] = "VALUE = 2\n|mode=420";
  EXPECT_EQ(after, expected);
  EXPECT_EQ(TempLeftovers(ws_), 0);
}

TEST_F(FileToolsTest, PatchThatDoesNotApplyIsAnActionableErrorAndChangesNothing) {
  Put(ws_ / "a.py", "def f():\n    return compute(1)\n");
  Put(ws_ / "b.py", "x = 1\n");
  auto before = Snapshot(ws_);
  Json r = client_->Tool("apply_patch", {{"patch",
                                          "*** Begin Patch\n*** Update File: b.py\n@@\n-x = 1\n+x = 2\n"
                                          "*** Update File: a.py\n@@\n def f():\n-    return compute(2)\n+    return 3\n"
                                          "*** End Patch\n"}});
  ASSERT_TRUE(IsError(r)) << r.dump();
  EXPECT_FALSE(r.contains("structuredContent"));
  std::string text = Text(r);
  EXPECT_NE(text.find("a.py"), std::string::npos) << text;
  EXPECT_NE(text.find("return compute(1)"), std::string::npos) << "closest context missing: " << text;
  EXPECT_NE(text.find("No file was changed"), std::string::npos) << text;
  EXPECT_EQ(Snapshot(ws_), before);
  // dry_run of a good patch: reported, nothing changes.
  r = client_->Tool("apply_patch", {{"patch", "--- a/b.py\n+++ b/b.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"}, {"dry_run", true}});
  ASSERT_FALSE(IsError(r)) << r.dump();
  EXPECT_EQ(r["structuredContent"]["applied"], false);
  EXPECT_NE(Text(r).find("Dry run"), std::string::npos);
  EXPECT_EQ(Snapshot(ws_), before);
}

TEST_F(FileToolsTest, ResourcesReadWorkspaceFilesThroughTheSandbox) {
  Json r = Call("resources/templates/list", Json::object());
  ASSERT_TRUE(r.contains("result")) << r.dump();
  EXPECT_EQ(r["result"]["resourceTemplates"][0]["uriTemplate"], "file:///{path}");
  Put(ws_ / "docs" / "guide.md", "# Guide\n");
  Put(ws_ / "img.bin", std::string("\x89PNG\0\x01\x02", 7));
  r = Call("resources/read", {{"uri", "file://" + (ws_ / "docs" / "guide.md").string()}});
  ASSERT_TRUE(r.contains("result")) << r.dump();
  EXPECT_EQ(r["result"]["contents"][0]["text"], "# Guide\n");
  EXPECT_EQ(r["result"]["contents"][0]["mimeType"], "text/markdown");
  r = Call("resources/read", {{"uri", "file:///docs/guide.md"}});  // the template filled with a relative path
  EXPECT_EQ(r["result"]["contents"][0]["text"], "# Guide\n") << r.dump();
  r = Call("resources/read", {{"uri", "file://" + (ws_ / "img.bin").string()}});
  EXPECT_EQ(r["result"]["contents"][0]["blob"], "iVBORwABAg==") << r.dump();
  const std::string missing = "file://" + (ws_ / "nope.txt").string();
  r = Call("resources/read", {{"uri", missing}});
  EXPECT_EQ(r["error"]["code"], -32002) << r.dump();
  EXPECT_EQ(r["error"]["data"]["uri"], missing);
  const std::string secret = "file://" + (outside_ / "secret.txt").string();
  r = Call("resources/read", {{"uri", secret}});
  ASSERT_TRUE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["error"]["data"]["uri"], secret);
  EXPECT_EQ(r.dump().find("outside secret"), std::string::npos);
  fs::create_directory_symlink(outside_, ws_ / "out");
  r = Call("resources/read", {{"uri", "file:///out/secret.txt"}});
  EXPECT_TRUE(r.contains("error")) << r.dump();
  EXPECT_EQ(Call("resources/read", {{"uri", "https://example.com/"}})["error"]["code"], -32002);
}

}  // namespace
}  // namespace cordon::files_test
