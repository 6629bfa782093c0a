#include "protocol/dispatcher.h"

#include <atomic>

namespace cordon::protocol {

struct Dispatcher::Batch {
  std::mutex mu;
  size_t pending = 1;  // one for the dispatch loop itself
  Json replies = Json::array();
};

enum class CancelMode { kNone, kSilent, kReplyCancelled };

struct InFlight {
  Json id;
  std::string key;
  CancellationToken cancel = std::make_shared<CancellationState>();
  std::atomic<bool> replied{false};
  std::atomic<CancelMode> cancel_mode{CancelMode::kNone};
  std::shared_ptr<Dispatcher::Batch> batch;
};

namespace {
void FinishBatchSlot(const std::shared_ptr<Dispatcher::Batch>& batch, const Dispatcher::Sender& send,
                     Json* reply) {
  Json out;
  {
    std::lock_guard<std::mutex> lock(batch->mu);
    if (reply) batch->replies.push_back(std::move(*reply));
    if (--batch->pending != 0) return;
    if (batch->replies.empty()) return;
    out = std::move(batch->replies);
  }
  send(out);
}
}  // namespace

ReplyOnce::ReplyOnce(std::shared_ptr<InFlight> state, std::weak_ptr<Dispatcher> owner)
    : state_(std::move(state)), owner_(std::move(owner)) {}

ReplyOnce& ReplyOnce::operator=(ReplyOnce&& other) noexcept {
  if (this != &other) {
    if (state_ && !state_->replied.load()) Fail(RpcError::Internal("request dropped without a reply"));
    state_ = std::move(other.state_);
    owner_ = std::move(other.owner_);
  }
  return *this;
}

ReplyOnce::~ReplyOnce() {
  if (state_ && !state_->replied.load()) Fail(RpcError::Internal("request dropped without a reply"));
}

// After the first reply state_ is gone, so a second Ok/Fail (a handler bug) is a no-op rather
// than a null dereference; the first reply stands.
void ReplyOnce::Ok(Json result) {
  if (state_) Send(MakeResult(state_->id, std::move(result)), false);
}
void ReplyOnce::Fail(RpcError error) {
  if (state_) Send(MakeError(state_->id, error), true);
}

void ReplyOnce::Send(Json message, bool /*is_error*/) {
  if (!state_) return;
  if (state_->replied.exchange(true)) return;  // a second reply is a bug; the first one stands
  auto owner = owner_.lock();
  if (owner) owner->Deliver(*state_, std::move(message));
  state_.reset();
}

std::shared_ptr<Dispatcher> Dispatcher::Create(Sender send) {
  return std::shared_ptr<Dispatcher>(new Dispatcher(std::move(send)));
}

void Dispatcher::Register(const std::string& method, Handler handler, MethodOptions options) {
  methods_[method] = {std::move(handler), options};
}

void Dispatcher::RegisterNotification(const std::string& method, NotificationHandler handler) {
  notifications_[method] = std::move(handler);
}

void Dispatcher::Notify(std::string_view method, Json params) { send_(MakeNotification(method, std::move(params))); }

void Dispatcher::SendRequest(std::string_view method, Json params, ResponseHandler on_reply) {
  // String ids with a prefix of their own: a client that echoes a wrong id cannot complete
  // some other request by accident.
  Json id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = "cordon-" + std::to_string(next_sent_id_++);
    sent_.emplace(id.dump(), std::move(on_reply));
  }
  Json message = {{"jsonrpc", "2.0"}, {"id", id}, {"method", std::string(method)}};
  if (!params.is_null()) message["params"] = std::move(params);
  send_(message);
}

size_t Dispatcher::in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_flight_.size();
}

void Dispatcher::HandleFrame(const Frame& frame, Framing framing) {
  framing_ = framing;
  switch (frame.kind) {
    case Frame::Kind::kTooLarge:
      send_(MakeError(nullptr, {code::kInvalidRequest, frame.body, Json{{"kind", "limit_exceeded"}, {"detail", frame.body}}}));
      return;
    case Frame::Kind::kTooDeep:
      send_(MakeError(nullptr, {code::kInvalidRequest, "invalid request: " + frame.body, nullptr}));
      return;
    case Frame::Kind::kBadHeader:
      send_(MakeError(nullptr, {code::kParseError, "parse error: " + frame.body, nullptr}));
      return;
    case Frame::Kind::kMessage:
      break;
  }
  // The decoder has already held the body to the configured depth (kTooDeep); this ceiling only
  // guards frames built elsewhere, matching the largest depth the config accepts.
  Parsed parsed = ParseJson(frame.body, kMaxAcceptedDepth);
  if (!parsed.json) {
    send_(MakeError(nullptr, *parsed.error));
    return;
  }
  if (parsed.json->is_array()) {
    if (parsed.json->empty()) {
      send_(MakeError(nullptr, {code::kInvalidRequest, "invalid request: empty batch", nullptr}));
      return;
    }
    auto batch = std::make_shared<Batch>();
    for (const Json& element : *parsed.json) Dispatch(element, batch);
    FinishBatchSlot(batch, send_, nullptr);
    return;
  }
  Dispatch(*parsed.json, nullptr);
}

void Dispatcher::Dispatch(const Json& message, const std::shared_ptr<Batch>& batch) {
  auto reply_now = [&](Json reply) {
    if (batch) {
      {
        std::lock_guard<std::mutex> lock(batch->mu);
        batch->replies.push_back(std::move(reply));
      }
    } else {
      send_(reply);
    }
  };
  Message m = ClassifyMessage(message);
  if (auto* inv = std::get_if<Invalid>(&m)) {
    reply_now(MakeError(inv->id, inv->error));
  } else if (auto* n = std::get_if<Notification>(&m)) {
    HandleNotification(*n);
  } else if (auto* r = std::get_if<Request>(&m)) {
    HandleRequest(std::move(*r), batch);
  } else if (auto* resp = std::get_if<Response>(&m)) {
    HandleResponse(std::move(*resp));
  }
}

void Dispatcher::HandleResponse(Response response) {
  ResponseHandler handler;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sent_.find(response.id.dump());
    if (it == sent_.end()) return;  // not ours, or answered already: nothing waits for it
    handler = std::move(it->second);
    sent_.erase(it);
  }
  handler(response.result, response.error);
}

void Dispatcher::HandleRequest(Request request, const std::shared_ptr<Batch>& batch) {
  auto state = std::make_shared<InFlight>();
  state->id = request.id;
  state->key = request.id.dump();
  state->batch = batch;

  auto fail_now = [&](RpcError error) {
    Json reply = MakeError(request.id, error);
    if (batch) {
      std::lock_guard<std::mutex> lock(batch->mu);
      batch->replies.push_back(std::move(reply));
    } else {
      send_(reply);
    }
  };

  auto it = methods_.find(request.method);
  bool known = it != methods_.end();
  if (!initialized_.load() && !(known && it->second.second.allowed_before_initialize)) {
    if (framing_ == Framing::kContentLength)
      fail_now({code::kServerNotInitialized, "server not initialized", nullptr});
    else
      fail_now({code::kInvalidRequest, "invalid request: send initialize first", nullptr});
    return;
  }
  if (shutdown_.load() && request.method != "exit") {
    fail_now({code::kInvalidRequest, "invalid request: the server is shutting down", nullptr});
    return;
  }
  if (!known) {
    fail_now({code::kMethodNotFound, "method not found: " + request.method, nullptr});
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!in_flight_.emplace(state->key, state).second) {
      fail_now({code::kInvalidRequest, "invalid request: id " + state->key + " is already in use by a running request", nullptr});
      return;
    }
  }
  if (batch) {
    std::lock_guard<std::mutex> lock(batch->mu);
    ++batch->pending;
  }
  CallContext ctx;
  ctx.id = request.id;
  ctx.method = request.method;
  ctx.cancel = state->cancel;
  if (request.params.is_object()) {
    auto meta = request.params.find("_meta");
    if (meta != request.params.end() && meta->is_object() && meta->contains("progressToken"))
      ctx.progress_token = (*meta)["progressToken"];
  }
  const Handler& handler = it->second.first;
  ReplyOnce reply(state, weak_from_this());
  Json params = request.params.is_null() ? Json::object() : std::move(request.params);
  try {
    handler(params, std::move(ctx), std::move(reply));
  } catch (const std::exception& e) {
    // A handler that throws has not replied (it took the ReplyOnce by value and dropped it,
    // which already answered -32603), so nothing else to do but keep serving.
    (void)e;
  }
}

void Dispatcher::HandleNotification(const Notification& n) {
  if (n.method == "notifications/cancelled" || n.method == "$/cancelRequest") {
    const Json& p = n.params;
    if (!p.is_object()) return;
    const char* field = n.method == "$/cancelRequest" ? "id" : "requestId";
    if (p.contains(field)) CancelById(p[field], n.method == "$/cancelRequest");
    return;
  }
  auto it = notifications_.find(n.method);
  if (it == notifications_.end()) return;  // unknown notifications are ignored, per JSON-RPC
  it->second(n.params);
}

void Dispatcher::CancelById(const Json& id, bool wants_reply) {
  std::shared_ptr<InFlight> state;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = in_flight_.find(id.dump());
    if (it == in_flight_.end()) return;  // finished or unknown: nothing to do
    state = it->second;
  }
  CancelMode expected = CancelMode::kNone;
  state->cancel_mode.compare_exchange_strong(expected, wants_reply ? CancelMode::kReplyCancelled : CancelMode::kSilent);
  state->cancel->Cancel();
}

void Dispatcher::CancelAll() {
  std::map<std::string, std::shared_ptr<InFlight>> all;
  std::map<std::string, ResponseHandler> unanswered;
  {
    std::lock_guard<std::mutex> lock(mu_);
    all = in_flight_;
    unanswered.swap(sent_);
  }
  for (auto& [key, handler] : unanswered) handler(nullptr, RpcError::Internal("connection closed before the client answered"));
  for (auto& [key, state] : all) {
    CancelMode expected = CancelMode::kNone;
    state->cancel_mode.compare_exchange_strong(expected, CancelMode::kSilent);
    state->cancel->Cancel();
  }
}

void Dispatcher::Deliver(InFlight& state, Json message) {
  switch (state.cancel_mode.load()) {
    case CancelMode::kSilent:
      // MCP: no reply after notifications/cancelled.
      Finished(state);
      if (state.batch) FinishBatchSlot(state.batch, send_, nullptr);
      return;
    case CancelMode::kReplyCancelled:
      message = MakeError(state.id, {code::kRequestCancelled, "request cancelled", nullptr});
      break;
    case CancelMode::kNone:
      break;
  }
  Finished(state);
  if (state.batch) FinishBatchSlot(state.batch, send_, &message);
  else send_(message);
}

void Dispatcher::Finished(const InFlight& state) {
  std::lock_guard<std::mutex> lock(mu_);
  in_flight_.erase(state.key);
}

}  // namespace cordon::protocol
