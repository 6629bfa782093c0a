#include "protocol/jsonrpc.h"

namespace cordon::protocol {

Json RpcError::ToJson() const {
  Json j = {{"code", code}, {"message", message}};
  if (!data.is_null()) j["data"] = data;
  return j;
}

RpcError RpcError::Cordon(int c, std::string_view kind, std::string detail) {
  RpcError e;
  e.code = c;
  e.message = detail;
  e.data = {{"kind", std::string(kind)}, {"detail", std::move(detail)}};
  return e;
}

bool ExceedsDepth(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > max_depth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

Parsed ParseJson(std::string_view text, int max_depth) {
  Parsed out;
  if (ExceedsDepth(text, max_depth)) {
    out.error = RpcError{code::kInvalidRequest,
                         "message nests deeper than " + std::to_string(max_depth) + " levels", nullptr};
    return out;
  }
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    out.error = RpcError{code::kParseError, "parse error: not valid JSON", nullptr};
    return out;
  }
  out.json = std::move(j);
  return out;
}

Message ClassifyMessage(const Json& j) {
  auto invalid = [](Json id, std::string why) { return Invalid{std::move(id), RpcError{code::kInvalidRequest, std::move(why), nullptr}}; };
  if (!j.is_object()) return invalid(nullptr, "invalid request: a message must be an object");
  Json id = nullptr;
  bool has_id = j.contains("id");
  if (has_id) {
    const Json& raw = j["id"];
    if (raw.is_string() || raw.is_number_integer() || raw.is_number_unsigned()) id = raw;
    else if (!raw.is_null()) return invalid(nullptr, "invalid request: id must be a string or an integer");
  }
  auto version = j.find("jsonrpc");
  if (version == j.end() || *version != "2.0") return invalid(id, "invalid request: jsonrpc must be \"2.0\"");
  auto method = j.find("method");
  if (method == j.end()) {
    if (j.contains("error")) {
      const Json& e = j["error"];
      RpcError error{code::kInternalError, "malformed error reply", nullptr};
      if (e.is_object()) {
        if (e.contains("code") && e["code"].is_number_integer()) error.code = e["code"].get<int>();
        if (e.contains("message") && e["message"].is_string()) error.message = e["message"].get<std::string>();
        if (e.contains("data")) error.data = e["data"];
      }
      return Response{id, nullptr, std::move(error)};
    }
    if (j.contains("result")) return Response{id, j["result"], std::nullopt};
    return invalid(id, "invalid request: missing method");
  }
  if (!method->is_string()) return invalid(id, "invalid request: method must be a string");
  Json params = nullptr;
  if (auto p = j.find("params"); p != j.end()) {
    if (!p->is_object() && !p->is_array()) return invalid(id, "invalid request: params must be an object or array");
    params = *p;
  }
  if (!has_id) return Notification{method->get<std::string>(), std::move(params)};
  if (id.is_null()) return invalid(nullptr, "invalid request: id must not be null");
  return Request{std::move(id), method->get<std::string>(), std::move(params)};
}

Json MakeResult(const Json& id, Json result) {
  return Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

Json MakeError(const Json& id, const RpcError& error) {
  return Json{{"jsonrpc", "2.0"}, {"id", id}, {"error", error.ToJson()}};
}

Json MakeNotification(std::string_view method, Json params) {
  Json j = {{"jsonrpc", "2.0"}, {"method", std::string(method)}};
  if (!params.is_null()) j["params"] = std::move(params);
  return j;
}

}  // namespace cordon::protocol
