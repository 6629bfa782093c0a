// MCP resources over the workspace: `resources/templates/list` offers `file:///{path}`, and
// `resources/read` reads a file through the same sandboxed operation as fs/readFile (never in
// the server process), as text when it is UTF-8 without NUL bytes, else as a base64 blob.
// `resources/list` is empty: files are reached through the template.
#include <spdlog/spdlog.h>

#include "sandbox/base64.h"
#include "sandbox/ops/fs_types.h"
#include "server/connection.h"
#include "server/errors.h"
#include "server/file_calls.h"
#include "server/methods.h"
#include "server/process_service.h"

namespace cordon::server {
namespace {

using protocol::Json;
using protocol::RpcError;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// file:///abs/path or file://localhost/abs/path -> "/abs/path" (percent-decoded); nullopt for
// any other scheme or host, a NUL, or a bad escape.
std::optional<std::string> FileUriPath(const std::string& uri) {
  static const std::string kScheme = "file://";
  if (uri.compare(0, kScheme.size(), kScheme) != 0) return std::nullopt;
  std::string rest = uri.substr(kScheme.size());
  if (rest.compare(0, 9, "localhost") == 0) rest = rest.substr(9);
  if (rest.empty() || rest[0] != '/') return std::nullopt;
  rest = rest.substr(0, rest.find_first_of("?#"));
  std::string out;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] != '%') {
      out += rest[i];
      continue;
    }
    if (i + 2 >= rest.size()) return std::nullopt;
    int hi = HexValue(rest[i + 1]), lo = HexValue(rest[i + 2]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string MimeType(const std::string& path, bool text) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".json", "application/json"}, {".md", "text/markdown"}, {".html", "text/html"}, {".css", "text/css"},
      {".js", "text/javascript"},    {".xml", "application/xml"}, {".png", "image/png"}, {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},       {".gif", "image/gif"},    {".svg", "image/svg+xml"}, {".pdf", "application/pdf"}};
  for (const auto& [ext, type] : kTypes) {
    std::string e = ext;
    if (path.size() > e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0) return type;
  }
  return text ? "text/plain" : "application/octet-stream";
}

RpcError NotFound(const std::string& uri, const std::string& detail) {
  return RpcError{protocol::code::kResourceNotFound, "Resource not found: " + detail, Json{{"uri", uri}}};
}

RpcError WithUri(RpcError e, const std::string& uri) {
  if (e.data.is_object()) e.data["uri"] = uri;
  else e.data = Json{{"uri", uri}};
  return e;
}

// Reads `path` in the default session as bytes; on a denial or a miss of an absolute path that
// is not in the workspace, retries it as relative to the workspace root (a client filling the
// template with "src/main.c" means the workspace's file). Both attempts run in the sandbox.
FileOpOutcome ReadBytes(Connection& c, const std::string& path, const protocol::CancellationToken& cancel) {
  ops::ReadFileParams p;
  p.path = path;
  p.encoding = ops::Encoding::kBase64;
  FileOpOutcome out = RunFileOperation(c, "", "readFile", Json(p), cancel);
  if (out.result || !out.sandbox) return out;
  ErrorKind kind = out.result.error().kind;
  if (kind != ErrorKind::kNotFound && kind != ErrorKind::kPolicyDenied) return out;
  const auto& roots = out.sandbox->policy().workspace_roots();
  if (roots.empty() || path.size() < 2 || path.compare(0, roots[0].size(), roots[0]) == 0) return out;
  p.path = path.substr(1);
  FileOpOutcome retry = RunFileOperation(c, "", "readFile", Json(p), cancel);
  return retry.result ? std::move(retry) : std::move(out);
}

}  // namespace

void RegisterFileResources(Connection& c) {
  auto& d = c.dispatcher();
  d.Register("resources/list", [](const Json&, protocol::CallContext, protocol::ReplyOnce reply) {
    reply.Ok({{"resources", Json::array()}});
  });
  d.Register("resources/templates/list", [](const Json&, protocol::CallContext, protocol::ReplyOnce reply) {
    Json tmpl = {{"uriTemplate", "file:///{path}"},
                 {"name", "file"},
                 {"title", "Workspace file"},
                 {"description",
                  "A file in the workspace, read inside the sandbox (text, or a base64 blob for binary "
                  "files). `path` is absolute, or relative to the workspace root."}};
    reply.Ok({{"resourceTemplates", Json::array({tmpl})}});
  });
  d.Register("resources/read", [&c](const Json& params, protocol::CallContext ctx, protocol::ReplyOnce reply) {
    if (!params.is_object() || !params.contains("uri") || !params["uri"].is_string())
      return reply.Fail(RpcError::InvalidParams("resources/read: missing field \"uri\""));
    std::string uri = params["uri"].get<std::string>();
    auto path = FileUriPath(uri);
    if (!path) return reply.Fail(NotFound(uri, "only file:///absolute/path URIs are served"));
    auto r = std::make_shared<protocol::ReplyOnce>(std::move(reply));
    c.processes().pool().Post([&c, r, uri, path = *path, cancel = ctx.cancel] {
      FileOpOutcome out = ReadBytes(c, path, cancel);
      if (!out.result) {
        const Error& e = out.result.error();
        if (e.kind == ErrorKind::kNotFound) return r->Fail(NotFound(uri, e.detail));
        return r->Fail(WithUri(ToRpcError(e), uri));
      }
      ops::ReadFileResult res;
      try {
        res = out.result->get<ops::ReadFileResult>();
      } catch (const std::exception& e) {
        return r->Fail(RpcError::Internal(std::string("resources/read: ") + e.what()));
      }
      if (res.truncated)
        return r->Fail(WithUri(ToRpcError(MakeError(ErrorKind::kLimitExceeded,
                                                     path + " is " + std::to_string(res.size) +
                                                         " bytes, over the read limit; use fs/readFile with a range")),
                               uri));
      auto bytes = Base64Decode(res.content);
      if (!bytes) return r->Fail(RpcError::Internal("resources/read: bad base64 from the sandbox"));
      bool text = bytes->find('\0') == std::string::npos && IsValidUtf8(*bytes);
      Json content = {{"uri", uri}, {"mimeType", MimeType(path, text)}};
      if (text) content["text"] = std::move(*bytes);
      else content["blob"] = std::move(res.content);
      r->Ok({{"contents", Json::array({std::move(content)})}});
    });
  });
}

}  // namespace cordon::server
