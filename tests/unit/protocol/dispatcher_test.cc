// Dispatcher: concurrent requests and out-of-order replies, batches, exactly-once replies,
// duplicate ids, both cancellation forms, the initialize gate and framing-level errors.
#include "protocol/dispatcher.h"

#include <atomic>
#include <map>
#include <set>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "wire_recorder.h"

namespace cordon::protocol {
namespace {

using testing::Msg;
using testing::WireRecorder;

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    d_ = Dispatcher::Create(wire_.Sender());
    d_->Register("echo", [](const Json& p, CallContext, ReplyOnce r) { r.Ok(p); });
    d_->Register("ping", [](const Json&, CallContext, ReplyOnce r) { r.Ok(Json::object()); },
                 MethodOptions{.allowed_before_initialize = true});
    // "hold" keeps the reply (and the cancellation token) for the test to finish later.
    d_->Register("hold", [this](const Json&, CallContext ctx, ReplyOnce r) {
      std::lock_guard<std::mutex> lock(mu_);
      held_.push_back(std::move(r));
      tokens_.push_back(ctx.cancel);
    });
    d_->RegisterNotification("note", [this](const Json& p) { notes_.push_back(p); });
  }
  void Send(const std::string& text, Framing framing = Framing::kNdjson) { d_->HandleFrame(Msg(text), framing); }
  static std::string Req(int id, const std::string& method, const std::string& params = "{}") {
    return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":")" + method + R"(","params":)" + params + "}";
  }

  WireRecorder wire_;
  std::shared_ptr<Dispatcher> d_;
  std::mutex mu_;
  std::vector<ReplyOnce> held_;
  std::vector<CancellationToken> tokens_;
  std::vector<Json> notes_;
};

TEST_F(DispatcherTest, RequestsBeforeInitializeAreRefusedPerFraming) {
  Send(Req(1, "echo"), Framing::kNdjson);
  Send(Req(2, "echo"), Framing::kContentLength);
  Send(Req(3, "nosuch"), Framing::kNdjson);
  Send(Req(4, "ping"), Framing::kNdjson);
  auto m = wire_.Snapshot();
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0]["error"]["code"], code::kInvalidRequest);
  EXPECT_EQ(m[1]["error"]["code"], code::kServerNotInitialized);
  EXPECT_EQ(m[2]["error"]["code"], code::kInvalidRequest);
  EXPECT_EQ(m[3]["result"], Json::object()) << "ping is allowed before initialize";
  d_->MarkInitialized();
  Send(Req(5, "echo", R"({"v":1})"));
  EXPECT_EQ(wire_.Snapshot().back()["result"]["v"], 1);
}

TEST_F(DispatcherTest, UnknownMethodAndNotification) {
  d_->MarkInitialized();
  Send(Req(1, "nosuch"));
  Send(R"({"jsonrpc":"2.0","method":"nosuch/notification"})");
  Send(R"({"jsonrpc":"2.0","method":"note","params":{"n":1}})");
  auto m = wire_.Snapshot();
  ASSERT_EQ(m.size(), 1u) << "notifications never get a reply";
  EXPECT_EQ(m[0]["error"]["code"], code::kMethodNotFound);
  EXPECT_EQ(m[0]["id"], 1);
  ASSERT_EQ(notes_.size(), 1u);
  EXPECT_EQ(notes_[0]["n"], 1);
}

TEST_F(DispatcherTest, ConcurrentRequestsReplyOutOfOrderExactlyOnce) {
  d_->MarkInitialized();
  for (int id = 1; id <= 8; ++id) Send(Req(id, "hold"));
  Send(Req(100, "echo"));
  EXPECT_EQ(d_->in_flight(), 8u);
  ASSERT_EQ(wire_.Snapshot().size(), 1u);
  EXPECT_EQ(wire_.Snapshot()[0]["id"], 100) << "a later fast request overtakes held ones";
  // Finish the held requests in reverse order, from several threads.
  std::vector<std::thread> threads;
  for (int i = 7; i >= 0; --i)
    threads.emplace_back([this, i] { held_[i].Ok(Json{{"n", i + 1}}); });
  for (auto& t : threads) t.join();
  auto m = wire_.WaitFor(9);
  ASSERT_EQ(m.size(), 9u);
  std::map<int, int> seen;
  for (const auto& reply : m) {
    ++seen[reply["id"].get<int>()];
    if (reply["id"] != 100) {
      EXPECT_EQ(reply["result"]["n"], reply["id"]);
    }
  }
  for (int id = 1; id <= 8; ++id) EXPECT_EQ(seen[id], 1) << id;
  EXPECT_EQ(d_->in_flight(), 0u);
}

TEST_F(DispatcherTest, DroppedReplyOnceAnswersInternalError) {
  d_->MarkInitialized();
  d_->Register("drop", [](const Json&, CallContext, ReplyOnce) {});
  Send(Req(1, "drop"));
  auto m = wire_.Snapshot();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0]["id"], 1);
  EXPECT_EQ(m[0]["error"]["code"], code::kInternalError);
  EXPECT_EQ(d_->in_flight(), 0u);
}

TEST_F(DispatcherTest, ThrowingHandlerAnswersInternalErrorAndServingContinues) {
  d_->MarkInitialized();
  d_->Register("throw", [](const Json&, CallContext, ReplyOnce) { throw std::runtime_error("boom"); });
  Send(Req(1, "throw"));
  Send(Req(2, "echo"));
  auto m = wire_.Snapshot();
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0]["error"]["code"], code::kInternalError);
  EXPECT_EQ(m[1]["id"], 2);
}

TEST_F(DispatcherTest, SecondReplyIsIgnored) {
  d_->MarkInitialized();
  d_->Register("twice", [](const Json&, CallContext, ReplyOnce r) {
    r.Ok("first");
    r.Ok("second");
    r.Fail(RpcError::Internal("third"));
  });
  Send(Req(1, "twice"));
  auto m = wire_.Snapshot();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0]["result"], "first");
}

TEST_F(DispatcherTest, MovedFromAndReassignedReplyOnce) {
  d_->MarkInitialized();
  Send(Req(1, "hold"));
  Send(Req(2, "hold"));
  ReplyOnce a = std::move(held_[0]);
  EXPECT_FALSE(held_[0]);
  held_[0].Ok("ignored: moved-from");
  EXPECT_TRUE(wire_.Snapshot().empty());
  // Assigning over an unanswered ReplyOnce answers it with an internal error first.
  a = std::move(held_[1]);
  auto m = wire_.Snapshot();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0]["id"], 1);
  EXPECT_EQ(m[0]["error"]["code"], code::kInternalError);
  a.Ok("done");
  EXPECT_EQ(wire_.Snapshot().back()["id"], 2);
}

TEST_F(DispatcherTest, DuplicateInFlightIdIsRejectedUntilTheFirstFinishes) {
  d_->MarkInitialized();
  Send(Req(7, "hold"));
  Send(Req(7, "echo"));
  auto m = wire_.Snapshot();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0]["id"], 7);
  EXPECT_EQ(m[0]["error"]["code"], code::kInvalidRequest);
  // "7" (a string) is a different id from 7.
  Send(R"({"jsonrpc":"2.0","id":"7","method":"echo","params":{"s":true}})");
  EXPECT_EQ(wire_.Snapshot().back()["result"]["s"], true);
  held_[0].Ok("first");
  Send(Req(7, "echo", R"({"again":1})"));
  m = wire_.Snapshot();
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[2]["result"], "first");
  EXPECT_EQ(m[3]["result"]["again"], 1);
}

TEST_F(DispatcherTest, McpCancelGetsNoReplyAndRunsCancelCallback) {
  d_->MarkInitialized();
  Send(Req(5, "hold"));
  std::atomic<int> killed{0};
  tokens_[0]->OnCancel([&] { ++killed; });
  Send(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5,"reason":"user"}})");
  EXPECT_TRUE(tokens_[0]->cancelled());
  EXPECT_EQ(killed.load(), 1);
  held_[0].Ok("too late");  // the handler finishes after the kill, as a real one would
  Send(Req(6, "echo"));
  auto m = wire_.Snapshot();
  ASSERT_EQ(m.size(), 1u) << m[0].dump();
  EXPECT_EQ(m[0]["id"], 6);
  EXPECT_EQ(d_->in_flight(), 0u);
}

TEST_F(DispatcherTest, LspCancelAnswersRequestCancelled) {
  d_->MarkInitialized();
  Send(Req(5, "hold"), Framing::kContentLength);
  Send(R"({"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":5}})", Framing::kContentLength);
  EXPECT_TRUE(tokens_[0]->cancelled());
  held_[0].Ok("ignored");
  auto m = wire_.Snapshot();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0]["id"], 5);
  EXPECT_EQ(m[0]["error"]["code"], code::kRequestCancelled);
}

TEST_F(DispatcherTest, CancelOfUnknownOrFinishedIdIsHarmless) {
  d_->MarkInitialized();
  Send(Req(1, "echo"));
  Send(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}})");
  Send(R"({"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":99}})");
  Send(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":[1]})");
  Send(R"({"jsonrpc":"2.0","method":"notifications/cancelled"})");
  EXPECT_EQ(wire_.Snapshot().size(), 1u);
}

TEST_F(DispatcherTest, OnCancelAfterCancellationRunsAtOnce) {
  d_->MarkInitialized();
  Send(Req(1, "hold"));
  Send(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}})");
  bool ran = false;
  tokens_[0]->OnCancel([&] { ran = true; });
  EXPECT_TRUE(ran);
  held_.clear();  // dropped after a silent cancel: still no reply
  EXPECT_TRUE(wire_.Snapshot().empty());
}

TEST_F(DispatcherTest, CancelAllIsSilent) {
  d_->MarkInitialized();
  Send(Req(1, "hold"));
  Send(Req(2, "hold"));
  d_->CancelAll();
  EXPECT_TRUE(tokens_[0]->cancelled());
  EXPECT_TRUE(tokens_[1]->cancelled());
  held_.clear();
  EXPECT_TRUE(wire_.Snapshot().empty());
  EXPECT_EQ(d_->in_flight(), 0u);
}

TEST_F(DispatcherTest, EmptyBatchIsOneInvalidRequest) {
  d_->MarkInitialized();
  Send("[]");
  auto m = wire_.Snapshot();
  ASSERT_EQ(m.size(), 1u);
  ASSERT_TRUE(m[0].is_object());
  EXPECT_EQ(m[0]["error"]["code"], code::kInvalidRequest);
  EXPECT_TRUE(m[0]["id"].is_null());
}

TEST_F(DispatcherTest, AllNotificationBatchGetsNothing) {
  d_->MarkInitialized();
  Send(R"([{"jsonrpc":"2.0","method":"note","params":{"n":1}},{"jsonrpc":"2.0","method":"note","params":{"n":2}}])");
  EXPECT_TRUE(wire_.Snapshot().empty());
  EXPECT_EQ(notes_.size(), 2u);
}

TEST_F(DispatcherTest, MixedBatchWithInvalidElements) {
  d_->MarkInitialized();
  Send(R"([{"jsonrpc":"2.0","id":1,"method":"echo","params":{"a":1}},
           {"jsonrpc":"2.0","method":"note"},
           1,
           {"foo":"bar"},
           {"jsonrpc":"2.0","id":2,"method":"nosuch"}])");
  auto m = wire_.Snapshot();
  ASSERT_EQ(m.size(), 1u);
  ASSERT_TRUE(m[0].is_array());
  ASSERT_EQ(m[0].size(), 4u);
  std::multiset<int> codes;
  for (const auto& r : m[0]) codes.insert(r.contains("error") ? r["error"]["code"].get<int>() : 0);
  EXPECT_EQ(codes, (std::multiset<int>{0, code::kInvalidRequest, code::kInvalidRequest, code::kMethodNotFound}));
}

TEST_F(DispatcherTest, InvalidOnlyBatchGetsOneErrorPerElement) {
  d_->MarkInitialized();
  Send("[1,2,3]");
  auto m = wire_.Snapshot();
  ASSERT_EQ(m.size(), 1u);
  ASSERT_EQ(m[0].size(), 3u);
  for (const auto& r : m[0]) EXPECT_EQ(r["error"]["code"], code::kInvalidRequest);
}

TEST_F(DispatcherTest, BatchWaitsForItsSlowestMember) {
  d_->MarkInitialized();
  Send("[" + Req(1, "hold") + "," + Req(2, "echo") + "]");
  EXPECT_TRUE(wire_.Snapshot().empty());
  std::thread([this] { held_[0].Ok("late"); }).join();
  auto m = wire_.WaitFor(1);
  ASSERT_EQ(m.size(), 1u);
  ASSERT_TRUE(m[0].is_array());
  EXPECT_EQ(m[0].size(), 2u);
}

TEST_F(DispatcherTest, SilentlyCancelledBatchMemberIsLeftOut) {
  d_->MarkInitialized();
  Send("[" + Req(1, "hold") + "," + Req(2, "echo") + "]");
  Send(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}})");
  held_[0].Ok("late");
  auto m = wire_.Snapshot();
  ASSERT_EQ(m.size(), 1u);
  ASSERT_EQ(m[0].size(), 1u);
  EXPECT_EQ(m[0][0]["id"], 2);
}

TEST_F(DispatcherTest, FrameErrors) {
  d_->HandleFrame(Frame{Frame::Kind::kTooLarge, "message exceeds 1 bytes"}, Framing::kNdjson);
  d_->HandleFrame(Frame{Frame::Kind::kTooDeep, "too deep"}, Framing::kNdjson);
  d_->HandleFrame(Frame{Frame::Kind::kBadHeader, "bad"}, Framing::kContentLength);
  Send("{not json");
  Send("");
  auto m = wire_.Snapshot();
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m[0]["error"]["code"], code::kInvalidRequest);
  EXPECT_EQ(m[0]["error"]["data"]["kind"], "limit_exceeded");
  EXPECT_EQ(m[1]["error"]["code"], code::kInvalidRequest);
  EXPECT_EQ(m[2]["error"]["code"], code::kParseError);
  EXPECT_EQ(m[3]["error"]["code"], code::kParseError);
  EXPECT_EQ(m[4]["error"]["code"], code::kParseError);
  for (const auto& r : m) EXPECT_TRUE(r["id"].is_null());
}

TEST_F(DispatcherTest, RequestsAfterShutdownAreRefused) {
  d_->MarkInitialized();
  d_->MarkShutdown();
  Send(Req(1, "echo"));
  EXPECT_EQ(wire_.Snapshot().at(0)["error"]["code"], code::kInvalidRequest);
}

TEST_F(DispatcherTest, ProgressTokenReachesTheHandler) {
  d_->MarkInitialized();
  Json token;
  d_->Register("progress", [&](const Json&, CallContext ctx, ReplyOnce r) {
    token = ctx.progress_token;
    r.Ok(nullptr);
  });
  Send(Req(1, "progress", R"({"_meta":{"progressToken":"tok"}})"));
  EXPECT_EQ(token, "tok");
}

TEST_F(DispatcherTest, ReplyAfterDispatcherIsGoneDoesNotCrash) {
  d_->MarkInitialized();
  Send(Req(1, "hold"));
  ReplyOnce r = std::move(held_[0]);
  held_.clear();
  d_.reset();
  r.Ok("nobody listens");
  SUCCEED();
}

// Requests the server sends to the client (roots/list): the answer reaches its handler once,
// by id; errors come through as errors; stray or repeated answers are ignored; and a request
// still unanswered when the connection ends is failed rather than forgotten.
TEST_F(DispatcherTest, ServerRequestsAreAnsweredByIdExactlyOnce) {
  d_->MarkInitialized();
  std::vector<std::pair<Json, std::optional<RpcError>>> answers;
  auto record = [&answers](const Json& result, const std::optional<RpcError>& error) { answers.emplace_back(result, error); };
  d_->SendRequest("roots/list", Json::object(), record);
  d_->SendRequest("roots/list", Json::object(), record);
  auto sent = wire_.Take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0]["method"], "roots/list");
  ASSERT_TRUE(sent[0]["id"].is_string());
  EXPECT_NE(sent[0]["id"], sent[1]["id"]);
  std::string first = sent[0]["id"].dump(), second = sent[1]["id"].dump();

  Send(R"({"jsonrpc":"2.0","id":)" + second + R"(,"error":{"code":-32601,"message":"no roots here"}})");
  Send(R"({"jsonrpc":"2.0","id":"cordon-999","result":{}})");  // nobody asked
  Send(R"({"jsonrpc":"2.0","id":)" + first + R"(,"result":{"roots":[]}})");
  Send(R"({"jsonrpc":"2.0","id":)" + first + R"(,"result":{"roots":["again"]}})");  // already answered
  ASSERT_EQ(answers.size(), 2u);
  ASSERT_TRUE(answers[0].second.has_value());
  EXPECT_EQ(answers[0].second->code, code::kMethodNotFound);
  EXPECT_EQ(answers[0].second->message, "no roots here");
  EXPECT_FALSE(answers[1].second.has_value());
  EXPECT_EQ(answers[1].first, Json::parse(R"({"roots":[]})"));
  EXPECT_TRUE(wire_.Snapshot().empty()) << "answers from the client are never answered";

  d_->SendRequest("roots/list", nullptr, record);
  d_->CancelAll();
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_TRUE(answers[2].second.has_value()) << "an unanswered request fails when the connection ends";
  d_->CancelAll();
  EXPECT_EQ(answers.size(), 3u);
}

}  // namespace
}  // namespace cordon::protocol
