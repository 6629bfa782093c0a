// MCP lifecycle over the dispatcher: version negotiation, ping, logging/setLevel, the tool
// table, shutdown/exit.
#include "protocol/mcp_server.h"

#include <gtest/gtest.h>

#include "wire_recorder.h"

namespace cordon::protocol {
namespace {

using testing::Msg;
using testing::WireRecorder;

class McpServerTest : public ::testing::Test {
 protected:
  McpServerTest() : d_(Dispatcher::Create(wire_.Sender())), mcp_(d_, ServerIdentity{"cordon", "9.9", "hello"}) {
    ToolDefinition def;
    def.name = "echo_tool";
    def.description = "echoes";
    def.input_schema = {{"type", "object"}};
    mcp_.AddTool(def, [](const Json& args, CallContext, ReplyOnce r) { r.Ok(ToolResult("ok", args)); });
  }
  Json Call(const std::string& method, const Json& params) {
    Json req = {{"jsonrpc", "2.0"}, {"id", ++id_}, {"method", method}, {"params", params}};
    size_t before = wire_.Snapshot().size();
    d_->HandleFrame(Msg(req.dump()), Framing::kNdjson);
    auto m = wire_.Snapshot();
    EXPECT_EQ(m.size(), before + 1) << method;
    return m.empty() ? Json() : m.back();
  }
  Json Initialize(const Json& version) {
    return Call("initialize", {{"protocolVersion", version}, {"capabilities", Json::object()},
                               {"clientInfo", {{"name", "t"}, {"version", "1"}}}});
  }

  WireRecorder wire_;
  std::shared_ptr<Dispatcher> d_;
  McpServer mcp_;
  int id_ = 0;
};

class VersionTest : public McpServerTest, public ::testing::WithParamInterface<std::pair<Json, std::string>> {};

TEST_P(VersionTest, NegotiatesTheProtocolVersion) {
  auto [requested, expected] = GetParam();
  Json r = Initialize(requested);
  ASSERT_TRUE(r.contains("result")) << r.dump();
  EXPECT_EQ(r["result"]["protocolVersion"], expected);
  EXPECT_EQ(r["result"]["serverInfo"]["name"], "cordon");
  EXPECT_EQ(r["result"]["serverInfo"]["version"], "9.9");
  EXPECT_EQ(r["result"]["capabilities"]["experimental"]["cordon"]["protocol"], 1);
  EXPECT_TRUE(r["result"]["capabilities"].contains("tools"));
  EXPECT_TRUE(r["result"]["capabilities"].contains("logging"));
  EXPECT_EQ(r["result"]["instructions"], "hello");
  EXPECT_TRUE(d_->initialized());
  EXPECT_EQ(mcp_.negotiated_version(), expected);
}

INSTANTIATE_TEST_SUITE_P(
    Versions, VersionTest,
    ::testing::Values(std::pair<Json, std::string>{"2025-11-25", "2025-11-25"},
                      std::pair<Json, std::string>{"2025-06-18", "2025-06-18"},
                      std::pair<Json, std::string>{"2025-03-26", "2025-03-26"},
                      std::pair<Json, std::string>{"2024-11-05", "2025-11-25"},
                      std::pair<Json, std::string>{"1999-01-01", "2025-11-25"},
                      std::pair<Json, std::string>{42, "2025-11-25"}));

TEST_F(McpServerTest, InitializeWithoutVersionIsInvalidParams) {
  Json r = Call("initialize", Json::object());
  EXPECT_EQ(r["error"]["code"], code::kInvalidParams);
  EXPECT_FALSE(d_->initialized());
  r = Call("initialize", Json::array({1, 2}));
  EXPECT_EQ(r["error"]["code"], code::kInvalidParams);
}

TEST_F(McpServerTest, PingBeforeAndAfterInitialize) {
  EXPECT_EQ(Call("ping", Json::object())["result"], Json::object());
  EXPECT_EQ(Call("tools/list", Json::object())["error"]["code"], code::kInvalidRequest);
  Initialize("2025-06-18");
  EXPECT_EQ(Call("ping", Json::object())["result"], Json::object());
}

TEST_F(McpServerTest, LoggingSetLevel) {
  Initialize("2025-11-25");
  LogLevel got = LogLevel::kEmergency;
  mcp_.OnLogLevel([&](LogLevel l) { got = l; });
  EXPECT_EQ(Call("logging/setLevel", {{"level", "debug"}})["result"], Json::object());
  EXPECT_EQ(got, LogLevel::kDebug);
  EXPECT_EQ(Call("logging/setLevel", {{"level", "warning"}})["result"], Json::object());
  EXPECT_EQ(got, LogLevel::kWarning);
  EXPECT_EQ(Call("logging/setLevel", {{"level", "loud"}})["error"]["code"], code::kInvalidParams);
  EXPECT_EQ(Call("logging/setLevel", {{"level", 3}})["error"]["code"], code::kInvalidParams);
  EXPECT_EQ(Call("logging/setLevel", Json::object())["error"]["code"], code::kInvalidParams);
  EXPECT_EQ(Call("logging/setLevel", Json::array({"debug"}))["error"]["code"], code::kInvalidParams);
  EXPECT_EQ(got, LogLevel::kWarning) << "a rejected level changes nothing";
}

TEST_F(McpServerTest, ToolsListAndCall) {
  Initialize("2025-11-25");
  Json list = Call("tools/list", Json::object());
  ASSERT_EQ(list["result"]["tools"].size(), 1u);
  EXPECT_EQ(list["result"]["tools"][0]["name"], "echo_tool");
  EXPECT_EQ(list["result"]["tools"][0]["inputSchema"]["type"], "object");
  Json r = Call("tools/call", {{"name", "echo_tool"}, {"arguments", {{"x", 1}}}});
  EXPECT_EQ(r["result"]["structuredContent"]["x"], 1);
  EXPECT_FALSE(r["result"].contains("isError"));
}

TEST_F(McpServerTest, ToolsCallBadEnvelopes) {
  Initialize("2025-11-25");
  Json r = Call("tools/call", {{"name", "no_such_tool"}, {"arguments", Json::object()}});
  EXPECT_EQ(r["error"]["code"], code::kInvalidParams);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("no_such_tool"), std::string::npos);
  EXPECT_EQ(Call("tools/call", {{"arguments", Json::object()}})["error"]["code"], code::kInvalidParams);
  EXPECT_EQ(Call("tools/call", {{"name", "echo_tool"}, {"arguments", 5}})["error"]["code"], code::kInvalidParams);
  EXPECT_EQ(Call("tools/call", Json::array({"echo_tool"}))["error"]["code"], code::kInvalidParams);
  EXPECT_EQ(Call("tools/list", {{"cursor", "bogus"}})["error"]["code"], code::kInvalidParams);
}

TEST_F(McpServerTest, ShutdownThenExit) {
  Initialize("2025-11-25");
  int exit_code = -1;
  mcp_.OnExit([&](int c) { exit_code = c; });
  EXPECT_TRUE(Call("shutdown", Json::object())["result"].is_null());
  EXPECT_EQ(Call("ping", Json::object())["error"]["code"], code::kInvalidRequest);
  d_->HandleFrame(Msg(R"({"jsonrpc":"2.0","method":"exit"})"), Framing::kContentLength);
  EXPECT_EQ(exit_code, 0);
}

TEST_F(McpServerTest, ExitWithoutShutdownIsCodeOne) {
  int exit_code = -1;
  mcp_.OnExit([&](int c) { exit_code = c; });
  d_->HandleFrame(Msg(R"({"jsonrpc":"2.0","method":"exit"})"), Framing::kContentLength);
  EXPECT_EQ(exit_code, 1);
}

TEST(McpLogLevelTest, NamesRoundTrip) {
  for (const char* name : {"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"}) {
    LogLevel l;
    ASSERT_TRUE(ParseLogLevel(name, &l)) << name;
    EXPECT_STREQ(LogLevelName(l), name);
  }
  LogLevel l;
  EXPECT_FALSE(ParseLogLevel("DEBUG", &l));
}

}  // namespace
}  // namespace cordon::protocol
