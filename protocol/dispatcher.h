// The dispatcher turns decoded frames into handler calls and handler outcomes into exactly one
// reply per request. It owns: the method table, the in-flight request table (duplicate ids,
// cancellation by `notifications/cancelled` or `$/cancelRequest`), batches, and the
// "initialize first" gate. Handlers may reply later, from any thread; a ReplyOnce that is
// dropped without replying answers -32603 so a client is never left waiting.
#pragma once

#include <functional>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "protocol/cancellation.h"
#include "protocol/framing.h"
#include "protocol/jsonrpc.h"

namespace cordon::protocol {

class Dispatcher;
struct InFlight;

class ReplyOnce {
 public:
  ReplyOnce() = default;
  ReplyOnce(std::shared_ptr<InFlight> state, std::weak_ptr<Dispatcher> owner);
  ReplyOnce(ReplyOnce&&) noexcept = default;
  ReplyOnce& operator=(ReplyOnce&&) noexcept;
  ReplyOnce(const ReplyOnce&) = delete;
  ReplyOnce& operator=(const ReplyOnce&) = delete;
  ~ReplyOnce();

  void Ok(Json result);
  void Fail(RpcError error);
  explicit operator bool() const { return state_ != nullptr; }

 private:
  void Send(Json message, bool is_error);
  std::shared_ptr<InFlight> state_;
  std::weak_ptr<Dispatcher> owner_;
};

struct CallContext {
  Json id;
  std::string method;
  CancellationToken cancel;
  Json progress_token;  // params._meta.progressToken, null when absent
};

using Handler = std::function<void(const Json& params, CallContext ctx, ReplyOnce reply)>;
using NotificationHandler = std::function<void(const Json& params)>;
// The client's answer to a request the server sent: the result, or the error (the client's own,
// or "connection closed" when the connection ends first).
using ResponseHandler = std::function<void(const Json& result, const std::optional<RpcError>& error)>;

struct MethodOptions {
  bool allowed_before_initialize = false;
};

class Dispatcher : public std::enable_shared_from_this<Dispatcher> {
 public:
  struct Batch;  // replies of one JSON-RPC batch, sent together
  using Sender = std::function<void(const Json& message)>;
  static std::shared_ptr<Dispatcher> Create(Sender send);

  void Register(const std::string& method, Handler handler, MethodOptions options = {});
  void RegisterNotification(const std::string& method, NotificationHandler handler);

  // Feeds one decoded frame (called on the reading thread, in order).
  void HandleFrame(const Frame& frame, Framing framing);
  // Sends a notification to the client (any thread).
  void Notify(std::string_view method, Json params);
  // Sends a request to the client (any thread). `on_reply` runs exactly once: on the reading
  // thread when the answer arrives, or from CancelAll() when the connection ends first.
  void SendRequest(std::string_view method, Json params, ResponseHandler on_reply);

  void MarkInitialized() { initialized_.store(true); }
  bool initialized() const { return initialized_.load(); }
  void MarkShutdown() { shutdown_.store(true); }
  bool shut_down() const { return shutdown_.load(); }
  // Cancels every in-flight request and fails every request sent to the client (teardown).
  void CancelAll();
  size_t in_flight() const;

 private:
  friend class ReplyOnce;
  explicit Dispatcher(Sender send) : send_(std::move(send)) {}
  void Dispatch(const Json& message, const std::shared_ptr<Batch>& batch);
  void HandleRequest(Request request, const std::shared_ptr<Batch>& batch);
  void HandleNotification(const Notification& n);
  void HandleResponse(Response response);
  void CancelById(const Json& id, bool wants_reply);
  void Deliver(InFlight& state, Json message);  // routes a reply to the batch or the wire
  void Finished(const InFlight& state);

  Sender send_;
  std::atomic<Framing> framing_{Framing::kUnknown};
  std::atomic<bool> initialized_{false};
  std::atomic<bool> shutdown_{false};
  std::map<std::string, std::pair<Handler, MethodOptions>> methods_;
  std::map<std::string, NotificationHandler> notifications_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<InFlight>> in_flight_;  // key: id.dump()
  std::map<std::string, ResponseHandler> sent_;                  // requests to the client, key: id.dump()
  uint64_t next_sent_id_ = 1;
};

}  // namespace cordon::protocol
