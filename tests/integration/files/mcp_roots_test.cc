// The default session's workspace from the MCP client's roots, through the real `cordon serve`
// started without --workspace: a request sent before the client answers roots/list waits for
// the answer and is served in the listed root; a client that never answers, or that hangs up
// first, is served in the server's cwd or ends cleanly; a late or useless answer changes
// nothing. Each case writes a file through the default session and checks where it landed.
#include "tests/integration/files/files_fixture.h"

namespace cordon::files_test {
namespace {

const Json kRootsCapability = {{"roots", {{"listChanged", true}}}};

class McpRootsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[4096];
    std::snprintf(tmpl, sizeof(tmpl), "%s/roots-XXXXXX", ScratchParent().c_str());
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    scratch_ = fs::canonical(tmpl);
    cwd_ = scratch_ / "cwd";
    root_ = scratch_ / "root";
    fs::create_directories(cwd_);
    fs::create_directories(root_);
  }
  void TearDown() override {
    client_.reset();
    std::error_code ec;
    fs::remove_all(scratch_, ec);
  }

  // Starts the server in cwd_ and shakes hands; returns the roots/list request it sends, if any.
  std::optional<Json> StartAndAwaitRootsRequest(const Json& capabilities, int wait_ms = 30000) {
    client_ = ServeClient::StartIn(cwd_.string());
    if (!client_ || !client_->Initialize(capabilities)) return std::nullopt;
    return client_->WaitNotification([](const Json& m) { return m.value("method", "") == "roots/list"; }, wait_ms);
  }
  Json RootsAnswer(const std::vector<std::string>& uris) {
    Json roots = Json::array();
    for (const auto& u : uris) roots.push_back({{"uri", u}});
    return {{"roots", roots}};
  }
  int64_t SendWrite(const std::string& name) {
    return client_->Send("fs/writeFile", {{"path", name}, {"content", "here"}});
  }
  Json Workspace() { return client_->Call("sandbox/info", Json::object())["result"]["policy"]["workspaceRoots"]; }

  fs::path scratch_, cwd_, root_;
  std::unique_ptr<ServeClient> client_;
};

TEST_F(McpRootsTest, RequestSentBeforeTheAnswerIsServedInTheListedRoot) {
  auto request = StartAndAwaitRootsRequest(kRootsCapability);
  ASSERT_TRUE(request) << "a client offering roots is asked for them";
  ASSERT_TRUE(request->contains("id"));
  int64_t write = SendWrite("early.txt");
  // Nothing is answered while the roots are outstanding.
  EXPECT_FALSE(client_->Wait(write, 300)) << "the write went ahead before the roots were known";
  client_->Respond((*request)["id"], RootsAnswer({"file://" + root_.string()}));
  auto reply = client_->Wait(write);
  ASSERT_TRUE(reply && reply->contains("result")) << (reply ? reply->dump() : client_->Log());
  EXPECT_EQ(Get(root_ / "early.txt"), "here");
  EXPECT_FALSE(fs::exists(cwd_ / "early.txt"));
  EXPECT_EQ(Workspace(), Json::array({root_.string()}));
}

TEST_F(McpRootsTest, ControlWithoutRootsCapabilityTheCwdIsTheWorkspace) {
  auto request = StartAndAwaitRootsRequest(Json::object(), 500);
  EXPECT_FALSE(request) << "a client that does not offer roots is not asked";
  auto reply = client_->Wait(SendWrite("plain.txt"));
  ASSERT_TRUE(reply && reply->contains("result")) << client_->Log();
  EXPECT_EQ(Get(cwd_ / "plain.txt"), "here");
  EXPECT_EQ(Workspace(), Json::array({cwd_.string()}));
}

TEST_F(McpRootsTest, UnusableRootsLeaveTheCwd) {
  auto request = StartAndAwaitRootsRequest(kRootsCapability);
  ASSERT_TRUE(request);
  client_->Respond((*request)["id"], RootsAnswer({"file://" + (scratch_ / "missing").string(), "https://example.com/"}));
  auto reply = client_->Wait(SendWrite("fallback.txt"));
  ASSERT_TRUE(reply && reply->contains("result")) << client_->Log();
  EXPECT_EQ(Get(cwd_ / "fallback.txt"), "here");
  EXPECT_NE(client_->Log().find("not an existing directory"), std::string::npos) << client_->Log();
}

TEST_F(McpRootsTest, AClientThatNeverAnswersIsServedInTheCwdAfterTheWait) {
  auto request = StartAndAwaitRootsRequest(kRootsCapability);
  ASSERT_TRUE(request);
  auto reply = client_->Wait(SendWrite("late.txt"));
  ASSERT_TRUE(reply && reply->contains("result")) << client_->Log();
  EXPECT_EQ(Get(cwd_ / "late.txt"), "here");
  // The answer that finally comes does not move a session that already exists.
  client_->Respond((*request)["id"], RootsAnswer({"file://" + root_.string()}));
  EXPECT_EQ(Workspace(), Json::array({cwd_.string()}));
  EXPECT_FALSE(fs::exists(root_ / "late.txt"));
}

// A hang-up ends the connection as always (its requests are cancelled); waiting for roots that
// can no longer come must not hold the exit up or send anything to a root never listed.
TEST_F(McpRootsTest, AHangUpWhileRootsAreAwaitedEndsTheServer) {
  auto request = StartAndAwaitRootsRequest(kRootsCapability);
  ASSERT_TRUE(request);
  SendWrite("eof.txt");
  ASSERT_TRUE(client_->Disconnect()) << client_->Log();
  EXPECT_FALSE(fs::exists(root_ / "eof.txt"));
}

}  // namespace
}  // namespace cordon::files_test
