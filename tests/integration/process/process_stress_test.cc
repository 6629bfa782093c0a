// Many requests in flight at once through one connection, and a client that stops reading:
// every exec is answered, the connection keeps serving afterwards, and a client that closes
// its input without reading the output cannot keep the server from exiting.
#include <chrono>
#include <set>
#include <thread>

#include "tests/integration/process/proc_fixture.h"

namespace cordon::proc_test {
namespace {

class ProcessStressTest : public ProcTest {};

// Rounds of 64 concurrent execs: each reply must arrive (the wait is generous; a stall fails
// it) and carry its own command's output, so a reply lost or crossed between requests shows.
TEST_F(ProcessStressTest, ManyConcurrentExecsAreAllAnswered) {
  constexpr int kRounds = 4;
  constexpr int kInFlight = 64;
  for (int round = 0; round < kRounds; ++round) {
    std::map<int64_t, std::string> expected;
    for (int i = 0; i < kInFlight; ++i) {
      std::string word = "r" + std::to_string(round) + "n" + std::to_string(i);
      Json params = i % 2 ? Json{{"argv", {"/bin/echo", word}}} : Json{{"command", "echo " + word + " >&2; echo " + word}};
      expected[client_->Send("exec", params)] = word;
    }
    for (const auto& [id, word] : expected) {
      auto reply = client_->Wait(id);
      ASSERT_TRUE(reply.has_value()) << "round " << round << ": no reply to exec " << word << "\n" << client_->Log();
      ASSERT_TRUE(reply->contains("result")) << reply->dump();
      const Json& r = (*reply)["result"];
      EXPECT_EQ(r["result"]["status"], "exited") << r.dump();
      EXPECT_EQ(r["stdout"], word + "\n") << r.dump();
    }
  }
  // Streaming still works on the same connection after the burst.
  std::string id = StartProcess({{"command", "head -c 3000000 /dev/zero"}});
  ASSERT_TRUE(client_->WaitClosed(id));
  EXPECT_EQ(client_->OutputOf(id).size(), 3000000u);
  ExpectWellOrdered(id);
}

// Execs and process/start mixed with long-poll reads and kills, all in flight together.
TEST_F(ProcessStressTest, MixedRequestsInFlightAreAllAnswered) {
  std::vector<std::string> started;
  std::set<int64_t> pending;
  for (int i = 0; i < 24; ++i) {
    std::string pid = "m" + std::to_string(i);
    started.push_back(pid);
    pending.insert(client_->Send("process/start", {{"processId", pid}, {"command", "seq 1 2000; sleep 1000"}}));
    pending.insert(client_->Send("exec", {{"argv", {"/bin/true"}}}));
    pending.insert(client_->Send("process/read", {{"processId", pid}, {"waitMs", 200}}));
  }
  for (const auto& pid : started) pending.insert(client_->Send("process/terminate", {{"processId", pid}}));
  for (int64_t id : pending) {
    auto reply = client_->Wait(id);
    ASSERT_TRUE(reply.has_value()) << "no reply to request " << id << "\n" << client_->Log();
  }
  for (const auto& pid : started) {
    ASSERT_TRUE(client_->WaitClosed(pid)) << pid;
    ExpectWellOrdered(pid);
  }
}

// A client that closes its input and never reads again, while a command floods output: the
// server must still exit (it kills the command, gives up on the unread output and leaves).
TEST_F(ProcessStressTest, ClientThatStopsReadingCannotBlockExit) {
  StartProcess({{"command", "yes cordon-flood"}});
  StartProcess({{"command", "head -c 100000000 /dev/zero"}, {"tty", true}});
  client_->Send("exec", {{"command", "sleep 1000"}});
  // Wait until the flood reaches us. From then on there is more output (the command's own
  // 1 MiB pipe, the terminal's buffer) than our 64 KiB pipe takes, so a pump blocks writing.
  for (int i = 0; i < 6000 && client_->Unread() < 16384; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // re-check the pipe's fill
  ASSERT_GE(client_->Unread(), 16384u) << "no output reached the client";
  auto everything = Descendants(client_->pid());
  ASSERT_TRUE(client_->Disconnect(kWaitMs, /*drain=*/false)) << "the server did not exit while its client did not read";
  EXPECT_TRUE(AwaitGone(everything).empty());
}

}  // namespace
}  // namespace cordon::proc_test
