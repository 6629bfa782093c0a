// JSON-RPC 2.0 vocabulary: error codes, the error value, and classification of one parsed
// message into request / notification / response / invalid. Parsing enforces the nesting
// limit before nlohmann sees the text, so hostile depth costs one linear scan.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace cordon::protocol {

using Json = nlohmann::json;

namespace code {
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
inline constexpr int kServerNotInitialized = -32002;  // LSP framing; also resource not found
inline constexpr int kResourceNotFound = -32002;
inline constexpr int kRequestCancelled = -32800;
inline constexpr int kPolicyDenied = -32010;
inline constexpr int kNotFound = -32011;
inline constexpr int kConflict = -32012;
inline constexpr int kLimitExceeded = -32013;
inline constexpr int kUnsupported = -32014;
inline constexpr int kSandboxFailed = -32015;
}  // namespace code

struct RpcError {
  int code = code::kInternalError;
  std::string message;
  Json data;  // null when absent

  Json ToJson() const;
  // A cordon error: data = {"kind": kind, "detail": detail}.
  static RpcError Cordon(int code, std::string_view kind, std::string detail);
  static RpcError InvalidParams(std::string message) { return {code::kInvalidParams, std::move(message), nullptr}; }
  static RpcError Internal(std::string message) { return {code::kInternalError, std::move(message), nullptr}; }
};

struct Request {
  Json id;
  std::string method;
  Json params;  // null when absent
};
struct Notification {
  std::string method;
  Json params;
};
struct Response {  // a reply from the client to a request the server sent
  Json id;
  Json result;                   // null when the reply is an error
  std::optional<RpcError> error;  // set when the reply is an error
};
struct Invalid {
  Json id;  // null if unknown
  RpcError error;
};
using Message = std::variant<Request, Notification, Response, Invalid>;

// True when the text nests arrays/objects deeper than max_depth (strings are skipped).
bool ExceedsDepth(std::string_view text, int max_depth);

// Parses one JSON text. An array is a batch: the elements come back individually through
// ClassifyMessage. Returns nullopt-equivalent errors as Invalid.
struct Parsed {
  std::optional<Json> json;  // set on success
  std::optional<RpcError> error;
};
Parsed ParseJson(std::string_view text, int max_depth);

Message ClassifyMessage(const Json& json);

Json MakeResult(const Json& id, Json result);
Json MakeError(const Json& id, const RpcError& error);
Json MakeNotification(std::string_view method, Json params);

}  // namespace cordon::protocol
