// The MCP exec tools through the real server: schemas and annotations, text for models
// (combined output + one status line, middle truncation), isError only for real failures,
// notifications/progress while exec runs, and the interactive start/read/write/kill cycle.
#include "tests/integration/process/proc_fixture.h"

namespace cordon::proc_test {
namespace {

class ProcessToolsTest : public ProcTest {
 protected:
  Json Tool(const std::string& name, const Json& args, const Json& meta = nullptr) {
    Json params = {{"name", name}, {"arguments", args}};
    if (!meta.is_null()) params["_meta"] = meta;
    Json r = client_->Call("tools/call", params);
    EXPECT_TRUE(r.contains("result")) << r.dump();
    return r.value("result", Json::object());
  }
  static std::string Text(const Json& result) {
    std::string out;
    for (const auto& c : result.value("content", Json::array()))
      if (c.value("type", "") == "text") out += c.value("text", "");
    return out;
  }
};

TEST_F(ProcessToolsTest, ListedWithSchemasAndAnnotations) {
  Json r = client_->Call("tools/list", Json::object());
  ASSERT_TRUE(r.contains("result")) << r.dump();
  std::set<std::string> want = {"exec", "start_process", "read_process_output", "write_process_input", "kill_process",
                                "list_processes"};
  for (const auto& t : r["result"]["tools"]) {
    if (!want.count(t["name"])) continue;
    want.erase(t["name"].get<std::string>());
    EXPECT_FALSE(t.value("description", "").empty()) << t["name"];
    EXPECT_EQ(t["inputSchema"]["type"], "object") << t["name"];
    EXPECT_EQ(t["outputSchema"]["type"], "object") << t["name"];
    EXPECT_TRUE(t.contains("annotations")) << t["name"];
  }
  EXPECT_TRUE(want.empty()) << *want.begin();
}

TEST_F(ProcessToolsTest, ExecEchoHello) {
  Json r = Tool("exec", {{"command", "echo hello"}});
  EXPECT_FALSE(r.value("isError", false));
  EXPECT_EQ(r["structuredContent"]["stdout"], "hello\n");
  EXPECT_EQ(r["structuredContent"]["exitCode"], 0);
  std::string text = Text(r);
  EXPECT_EQ(text.rfind("hello\n[exit status 0]", 0), 0u) << text;
}

TEST_F(ProcessToolsTest, NonZeroExitIsNotAnError) {
  Json r = Tool("exec", {{"command", "echo out; echo err >&2; exit 3"}});
  EXPECT_FALSE(r.value("isError", false));
  std::string text = Text(r);
  EXPECT_NE(text.find("out\n"), std::string::npos);
  EXPECT_NE(text.find("err\n"), std::string::npos);
  EXPECT_NE(text.find("[exit status 3]"), std::string::npos) << text;
  EXPECT_EQ(r["structuredContent"]["exitCode"], 3);
}

TEST_F(ProcessToolsTest, RealFailuresAreErrors) {
  Json timeout = Tool("exec", {{"argv", {"sleep", "1000"}}, {"timeout_ms", 200}});
  EXPECT_TRUE(timeout.value("isError", false));
  EXPECT_NE(Text(timeout).find("timeout"), std::string::npos) << Text(timeout);
  Json bad = Tool("exec", {{"cwd", "x"}});
  EXPECT_TRUE(bad.value("isError", false));
  Json unknown = Tool("read_process_output", {{"processId", "nope"}});
  EXPECT_TRUE(unknown.value("isError", false));
  EXPECT_NE(Text(unknown).find("not_found"), std::string::npos) << Text(unknown);
}

TEST_F(ProcessToolsTest, LongOutputIsCutInTheMiddle) {
  Json r = Tool("exec", {{"command", "echo FIRST; head -c 200000 /dev/zero | tr '\\0' a; echo; echo LAST"}});
  std::string text = Text(r);
  EXPECT_LT(text.size(), 64u * 1024);
  EXPECT_EQ(text.rfind("FIRST\n", 0), 0u);
  EXPECT_NE(text.find("bytes omitted"), std::string::npos);
  EXPECT_NE(text.find("LAST\n[exit status 0]"), std::string::npos) << text.substr(text.size() - 200);
}

TEST_F(ProcessToolsTest, ExecStreamsProgressWithAToken) {
  int64_t req = client_->Send("tools/call", {{"name", "exec"},
                                             {"arguments", {{"command", "echo one; echo two"}}},
                                             {"_meta", {{"progressToken", "tok-1"}}}});
  auto reply = client_->Wait(req);
  ASSERT_TRUE(reply && reply->contains("result"));
  std::string streamed;
  for (const auto& m : client_->notifications()) {
    if (m.value("method", "") != "notifications/progress") continue;
    EXPECT_EQ(m["params"]["progressToken"], "tok-1");
    streamed += m["params"].value("message", "");
  }
  EXPECT_NE(streamed.find("one"), std::string::npos);
  EXPECT_NE(streamed.find("two"), std::string::npos);
}

TEST_F(ProcessToolsTest, InteractiveStartReadWriteListKill) {
  Json s = Tool("start_process", {{"command", "while read l; do echo got:$l; done"}});
  ASSERT_FALSE(s.value("isError", false)) << s.dump();
  std::string id = s["structuredContent"]["processId"];
  Json w = Tool("write_process_input", {{"processId", id}, {"input", "ping\n"}});
  EXPECT_FALSE(w.value("isError", false)) << w.dump();
  Json r = Tool("read_process_output", {{"processId", id}, {"waitMs", 30000}});
  for (int i = 0; i < 100 && Text(r).find("got:ping") == std::string::npos; ++i)
    r = Tool("read_process_output", {{"processId", id}, {"waitMs", 30000}});
  EXPECT_NE(Text(r).find("got:ping"), std::string::npos) << Text(r);
  EXPECT_TRUE(r["structuredContent"]["running"]);
  Json l = Tool("list_processes", Json::object());
  EXPECT_NE(Text(l).find(id + "  running"), std::string::npos) << Text(l);
  Json k = Tool("kill_process", {{"processId", id}});
  EXPECT_TRUE(k["structuredContent"]["wasRunning"]);
  ASSERT_TRUE(client_->WaitClosed(id));
  Json after = Tool("read_process_output", {{"processId", id}, {"afterSeq", r["structuredContent"]["nextSeq"].get<uint64_t>() - 1}});
  EXPECT_FALSE(after["structuredContent"]["running"]);
  EXPECT_NE(Text(after).find("[killed"), std::string::npos) << Text(after);
}

}  // namespace
}  // namespace cordon::proc_test
