// RequestGate: frames wait while the gate is closed and go out in arrival order when it opens
// or its deadline passes; answers to the server's own requests pass straight through; a flood
// is served rather than buffered without bound; Shutdown drops what is held.
#include "server/request_gate.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace cordon::server {
namespace {

using namespace std::chrono_literals;

class Recorder {
 public:
  RequestGate::Dispatch Sink() {
    return [this](const protocol::Frame& f, protocol::Framing) {
      std::lock_guard<std::mutex> lock(mu_);
      bodies_.push_back(f.body);
      cv_.notify_all();
    };
  }
  std::vector<std::string> WaitFor(size_t n, std::chrono::milliseconds limit = 30s) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, limit, [&] { return bodies_.size() >= n; });
    return bodies_;
  }
  std::vector<std::string> Snapshot() {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> bodies_;
};

protocol::Frame Message(std::string body) { return {protocol::Frame::Kind::kMessage, std::move(body)}; }
std::string Req(int id) { return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":"m"})"; }
const std::string kAnswer = R"({"jsonrpc":"2.0","id":"cordon-1","result":{"roots":[]}})";
const std::string kNote = R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}})";

TEST(RequestGateTest, OpenGateDispatchesAtOnce) {
  Recorder r;
  RequestGate gate(r.Sink());
  gate.Submit(Message(Req(1)), protocol::Framing::kNdjson);
  EXPECT_EQ(r.Snapshot(), std::vector<std::string>{Req(1)});
}

TEST(RequestGateTest, HeldFramesKeepTheirOrderAndAnswersPassThrough) {
  Recorder r;
  RequestGate gate(r.Sink());
  gate.Close(60s, nullptr);
  gate.Submit(Message(Req(1)), protocol::Framing::kNdjson);
  gate.Submit(Message(kNote), protocol::Framing::kNdjson);
  gate.Submit(Message("not json"), protocol::Framing::kNdjson);
  gate.Submit(Message(kAnswer), protocol::Framing::kNdjson);
  EXPECT_EQ(r.Snapshot(), std::vector<std::string>{kAnswer}) << "only the answer went through";
  EXPECT_TRUE(gate.closed());
  gate.Open();
  EXPECT_FALSE(gate.closed());
  gate.Submit(Message(Req(2)), protocol::Framing::kNdjson);
  EXPECT_EQ(r.Snapshot(), (std::vector<std::string>{kAnswer, Req(1), kNote, "not json", Req(2)}));
  gate.Open();  // idempotent
  EXPECT_EQ(r.Snapshot().size(), 5u);
}

TEST(RequestGateTest, DeadlineOpensTheGateAndSaysSo) {
  Recorder r;
  RequestGate gate(r.Sink());
  std::atomic<bool> timed_out{false};
  gate.Close(50ms, [&] { timed_out = true; });
  gate.Submit(Message(Req(1)), protocol::Framing::kNdjson);
  EXPECT_EQ(r.WaitFor(1), std::vector<std::string>{Req(1)});
  EXPECT_TRUE(timed_out.load());
  EXPECT_FALSE(gate.closed());
}

TEST(RequestGateTest, OpenedInTimeTheDeadlineDoesNothing) {
  Recorder r;
  RequestGate gate(r.Sink());
  std::atomic<bool> timed_out{false};
  gate.Close(200ms, [&] { timed_out = true; });
  gate.Open();
  gate.Shutdown();  // joins the timer, which must have seen the gate open
  EXPECT_FALSE(timed_out.load());
}

TEST(RequestGateTest, AFloodIsServedInsteadOfBuffered) {
  Recorder r;
  RequestGate gate(r.Sink());
  gate.Close(60s, nullptr);
  for (int i = 0; i < 5000; ++i) gate.Submit(Message(Req(i)), protocol::Framing::kNdjson);
  auto got = r.Snapshot();
  ASSERT_EQ(got.size(), 5000u);
  EXPECT_EQ(got.front(), Req(0));
  EXPECT_EQ(got.back(), Req(4999));
  EXPECT_FALSE(gate.closed());
}

TEST(RequestGateTest, ShutdownDropsHeldFrames) {
  Recorder r;
  RequestGate gate(r.Sink());
  gate.Close(60s, nullptr);
  gate.Submit(Message(Req(1)), protocol::Framing::kNdjson);
  gate.Shutdown();
  gate.Open();
  gate.Submit(Message(Req(2)), protocol::Framing::kNdjson);
  EXPECT_TRUE(r.Snapshot().empty());
}

}  // namespace
}  // namespace cordon::server
