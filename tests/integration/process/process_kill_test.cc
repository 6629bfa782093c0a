// Every kill path ends the whole tree: a command that ignores SIGTERM, starts a setsid daemon
// and a double-forked child, is ended by process/terminate, timeout, exec cancellation,
// session/close and client disconnect, and a /proc scan afterwards finds none of them.
#include <thread>

#include "tests/integration/process/proc_fixture.h"

namespace cordon::proc_test {
namespace {

// A tree that tries to survive: TERM ignored everywhere, a setsid daemon, a double fork.
std::string StubbornTree(const std::string& marker) {
  return "trap '' TERM; "
         "setsid sh -c 'trap \"\" TERM; sleep 1000; : " + marker + "' & "
         "(sh -c 'trap \"\" TERM; sleep 1000; : " + marker + "' &); "
         "sleep 1000; : " + marker;
}

class ProcessKillTest : public ProcTest {
 protected:
  std::string Marker() {
    return "mark" + std::to_string(::getpid()) + "x" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  // Waits until the three marked shells and their sleeps run (each shell forks its sleep a
  // moment after it shows up), then returns them and everything below them.
  std::vector<ProcEntry> AwaitTree(const std::string& marker) {
    std::vector<ProcEntry> marked, all;
    for (int i = 0; i < 3000; ++i) {
      marked = WithMarker(marker);
      all = marked;
      for (const auto& m : marked)
        for (const auto& d : Descendants(m.pid)) all.push_back(d);
      if (marked.size() >= 3 && all.size() >= 6) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // re-scan /proc
    }
    EXPECT_GE(marked.size(), 3u) << "the tree did not start";
    EXPECT_GE(all.size(), 6u) << "the sleeps did not start";
    return all;
  }

  void ExpectAllGone(const std::vector<ProcEntry>& tree, const std::string& marker) {
    auto survivors = AwaitGone(tree);
    EXPECT_TRUE(survivors.empty()) << survivors.size() << " processes survived, first pid " << survivors[0].pid;
    EXPECT_TRUE(WithMarker(marker).empty());
  }
};

TEST_F(ProcessKillTest, ProcessTerminate) {
  std::string m = Marker();
  std::string id = StartProcess({{"command", StubbornTree(m)}});
  auto tree = AwaitTree(m);
  Json r = client_->Call("process/terminate", {{"processId", id}});
  ASSERT_TRUE(r.contains("result")) << r.dump();
  ASSERT_TRUE(client_->WaitClosed(id));
  EXPECT_EQ(ExitedResult(id)["status"], "killed") << ExitedResult(id).dump();
  ExpectAllGone(tree, m);
}

TEST_F(ProcessKillTest, Timeout) {
  std::string m = Marker();
  std::string id = StartProcess({{"command", StubbornTree(m)}, {"timeoutMs", 1500}});
  auto tree = AwaitTree(m);
  ASSERT_TRUE(client_->WaitClosed(id));
  EXPECT_EQ(ExitedResult(id)["status"], "timeout");
  ExpectAllGone(tree, m);
}

TEST_F(ProcessKillTest, ExecCancelled) {
  std::string m = Marker();
  int64_t req = client_->Send("exec", {{"command", StubbornTree(m)}});
  auto tree = AwaitTree(m);
  client_->Notify("notifications/cancelled", {{"requestId", req}, {"reason", "test"}});
  ExpectAllGone(tree, m);
  // MCP: no reply after cancellation; the connection keeps serving.
  EXPECT_TRUE(client_->Call("ping", Json::object()).contains("result"));
}

TEST_F(ProcessKillTest, ExecOfSleepCancelledLeavesNothing) {
  std::string m = Marker();
  int64_t req = client_->Send("exec", {{"argv", {"sh", "-c", "sleep 1000; : " + m}}});
  std::vector<ProcEntry> tree;
  for (int i = 0; i < 3000 && tree.empty(); ++i) {
    tree = WithMarker(m);
    if (tree.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));  // re-scan /proc
  }
  ASSERT_FALSE(tree.empty());
  for (const auto& d : Descendants(tree[0].pid)) tree.push_back(d);
  client_->Notify("notifications/cancelled", {{"requestId", req}});
  ExpectAllGone(tree, m);
}

TEST_F(ProcessKillTest, SessionClose) {
  Json s = client_->Call("session/create", Json::object());
  ASSERT_TRUE(s.contains("result")) << s.dump();
  std::string session = s["result"]["sessionId"];
  std::string m = Marker();
  std::string id = StartProcess({{"sessionId", session}, {"command", StubbornTree(m)}});
  auto tree = AwaitTree(m);
  Json r = client_->Call("session/close", {{"sessionId", session}});
  ASSERT_TRUE(r.contains("result")) << r.dump();
  EXPECT_EQ(r["result"]["killedProcesses"], 1);
  ExpectAllGone(tree, m);
  ASSERT_TRUE(client_->WaitClosed(id));
  ExpectWellOrdered(id);
}

TEST_F(ProcessKillTest, ClientDisconnectLeavesNothing) {
  std::string m = Marker();
  StartProcess({{"command", StubbornTree(m)}});
  StartProcess({{"command", "yes"}, {"tty", true}});
  client_->Send("exec", {{"command", "sleep 1000; : " + m}});
  auto tree = AwaitTree(m);
  auto everything = Descendants(client_->pid());  // workers and leaders included
  ASSERT_TRUE(client_->Disconnect()) << "the server did not exit after its client left";
  ExpectAllGone(tree, m);
  EXPECT_TRUE(AwaitGone(everything).empty());
}

TEST_F(ProcessKillTest, McpKillProcessTool) {
  std::string m = Marker();
  Json started = client_->Call("tools/call", {{"name", "start_process"}, {"arguments", {{"command", StubbornTree(m)}}}});
  ASSERT_TRUE(started.contains("result")) << started.dump();
  std::string id = started["result"]["structuredContent"]["processId"];
  auto tree = AwaitTree(m);
  Json k = client_->Call("tools/call", {{"name", "kill_process"}, {"arguments", {{"processId", id}}}});
  ASSERT_TRUE(k.contains("result")) << k.dump();
  EXPECT_FALSE(k["result"].value("isError", false));
  ExpectAllGone(tree, m);
}

TEST_F(ProcessKillTest, McpExecToolCancelled) {
  std::string m = Marker();
  int64_t req = client_->Send("tools/call", {{"name", "exec"}, {"arguments", {{"command", StubbornTree(m)}}}});
  auto tree = AwaitTree(m);
  client_->Notify("notifications/cancelled", {{"requestId", req}});
  ExpectAllGone(tree, m);
}

}  // namespace
}  // namespace cordon::proc_test
