// The native file methods of PROTOCOL.md §6. Each binds its params to the fs_types struct,
// then runs the operation inside the session's sandboxed worker on the connection's pool; the
// worker's wire-shaped result is the reply. Nothing here touches the filesystem itself.
#include <spdlog/spdlog.h>

#include "sandbox/ops/fs_types.h"
#include "server/connection.h"
#include "server/errors.h"
#include "server/file_calls.h"
#include "server/methods.h"
#include "server/process_service.h"

namespace cordon::server {
namespace {

using protocol::Json;

// One native method: bind params to T, re-serialise the typed value (drops unknown fields such
// as sessionId), run `op` in the sandbox, reply with its result or its error.
template <class T>
void RegisterOp(Connection& c, const std::string& method, const std::string& op) {
  c.dispatcher().Register(method, [&c, method, op](const Json& params, protocol::CallContext ctx,
                                                   protocol::ReplyOnce reply) {
    T typed;
    if (auto bad = BindParams(params, method, &typed)) return reply.Fail(std::move(*bad));
    auto r = std::make_shared<protocol::ReplyOnce>(std::move(reply));
    PostFileOperation(c, SessionIdParam(params), op, Json(typed), ctx.cancel, [r](FileOpOutcome out) {
      if (!out.result) return r->Fail(ToRpcError(out.result.error()));
      r->Ok(std::move(*out.result));
    });
  });
}

}  // namespace

std::string BindErrorText(const std::exception& e) {
  std::string what = e.what();
  if (what.rfind("[json.exception.", 0) == 0) {
    size_t close = what.find("] ");
    if (close != std::string::npos) what = what.substr(close + 2);
  }
  // out_of_range.403 says "key 'path' not found".
  if (what.rfind("key '", 0) == 0 && what.size() > 15 && what.compare(what.size() - 11, 11, "' not found") == 0)
    return "missing field \"" + what.substr(5, what.size() - 16) + "\"";
  return what;
}

FileOpOutcome RunFileOperation(Connection& c, const std::string& session_id, const std::string& op,
                               const Json& request, const protocol::CancellationToken& cancel) {
  if (cancel && cancel->cancelled()) return {MakeError(ErrorKind::kCancelled, op + " cancelled"), nullptr};
  auto session = c.sessions().Get(session_id);
  if (!session) return {session.error(), nullptr};
  std::shared_ptr<SandboxSession> sandbox = (*session)->sandbox;
  return {sandbox->RunOperation(op, request, cancel ? cancel->flag() : nullptr), sandbox};
}

void PostFileOperation(Connection& c, std::string session_id, std::string op, Json request,
                       protocol::CancellationToken cancel, std::function<void(FileOpOutcome)> done) {
  c.processes().pool().Post([&c, session_id = std::move(session_id), op = std::move(op),
                             request = std::move(request), cancel = std::move(cancel), done = std::move(done)] {
    done(RunFileOperation(c, session_id, op, request, cancel));
  });
}

void RegisterFileMethods(Connection& c, protocol::McpServer& mcp) {
  RegisterOp<ops::ReadFileParams>(c, "fs/readFile", "readFile");
  RegisterOp<ops::ReadDirectoryParams>(c, "fs/readDirectory", "readDirectory");
  RegisterOp<ops::GetMetadataParams>(c, "fs/getMetadata", "getMetadata");
  RegisterOp<ops::WriteFileParams>(c, "fs/writeFile", "writeFile");
  RegisterOp<ops::ApplyPatchParams>(c, "patch/apply", "applyPatch");
  RegisterFileTools(c, mcp);
  RegisterFileResources(c);
}

}  // namespace cordon::server
