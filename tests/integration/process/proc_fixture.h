// One live `cordon serve` per test (default policy, workspace in the build tree) and small
// helpers for starting processes and checking the notification rules of PROTOCOL.md §5.
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/integration/process/proc_client.h"

namespace cordon::proc_test {

class ProcTest : public ::testing::Test {
 protected:
  void SetUp() override { Restart({}); }

  void Restart(const std::vector<std::string>& extra) {
    client_.reset();
    workspace_ = MakeWorkspace(::testing::UnitTest::GetInstance()->current_test_info()->name());
    client_ = ProcClient::Start(workspace_, extra);
    ASSERT_TRUE(client_) << "could not start " << CORDON_BIN;
    ASSERT_TRUE(client_->Initialize()) << client_->Log();
  }

  // process/start; returns the processId (fails the test on an error reply).
  std::string StartProcess(Json params) {
    Json r = client_->Call("process/start", params);
    EXPECT_TRUE(r.contains("result")) << r.dump() << "\n" << client_->Log();
    if (!r.contains("result")) return "";
    return r["result"]["processId"].get<std::string>();
  }

  Json ExitedResult(const std::string& id) {
    for (const auto& m : client_->EventsOf(id))
      if (m["method"] == "process/exited") return m["params"]["result"];
    return nullptr;
  }

  // PROTOCOL.md §5 for one closed process: seq strictly increasing, output only before exited,
  // exactly one exited, closed exactly once and last.
  void ExpectWellOrdered(const std::string& id) {
    auto events = client_->EventsOf(id);
    ASSERT_FALSE(events.empty()) << id;
    uint64_t last_seq = 0;
    int exited = 0, closed = 0;
    for (size_t i = 0; i < events.size(); ++i) {
      const Json& p = events[i]["params"];
      std::string method = events[i]["method"];
      ASSERT_TRUE(p.contains("seq")) << events[i].dump();
      uint64_t seq = p["seq"];
      EXPECT_GT(seq, last_seq) << id << " event " << i << ": " << method;
      last_seq = seq;
      if (method == "process/output") {
        EXPECT_EQ(exited, 0) << id << ": output after exited";
        EXPECT_EQ(closed, 0) << id << ": output after closed";
      } else if (method == "process/exited") {
        ++exited;
        EXPECT_EQ(closed, 0) << id << ": exited after closed";
      } else if (method == "process/closed") {
        ++closed;
        EXPECT_EQ(i, events.size() - 1) << id << ": closed is not the last event";
      }
    }
    EXPECT_EQ(exited, 1) << id;
    EXPECT_EQ(closed, 1) << id;
  }

  std::string workspace_;
  std::unique_ptr<ProcClient> client_;
};

}  // namespace cordon::proc_test
