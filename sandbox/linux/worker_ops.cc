#include "sandbox/linux/worker_ops.h"

#include <exception>

#include "sandbox/ops/file_ops.h"

namespace cordon::linux_sandbox {
namespace {

using nlohmann::json;

json ErrorReply(ErrorKind kind, const std::string& detail) {
  return {{"error", {{"kind", ErrorKindName(kind)}, {"detail", detail}}}};
}

// nlohmann's what() starts with "[json.exception.type_error.302] "; the rest names the field.
std::string BindMessage(const std::exception& e) {
  std::string what = e.what();
  if (what.rfind("[json.exception.", 0) == 0) {
    size_t close = what.find("] ");
    if (close != std::string::npos) what = what.substr(close + 2);
  }
  return what;
}

// Binds `args` to Params, runs `fn` and wraps its Result in the op reply shape.
template <class Params, class Fn>
json Run(const std::string& op, const json& args, Fn fn) {
  Params params;
  try {
    params = args.get<Params>();
  } catch (const std::exception& e) {
    return ErrorReply(ErrorKind::kInvalidArgument, op + ": " + BindMessage(e));
  }
  auto result = fn(params);
  if (!result) return ErrorReply(result.error().kind, result.error().detail);
  return {{"ok", json(*result)}};
}

}  // namespace

json RunWorkerOperation(const std::string& op, const json& args, const Policy& policy,
                        const std::atomic<bool>* cancel) {
  ops::FsContext ctx(policy, cancel);
  if (op == "readFile")
    return Run<ops::ReadFileParams>(op, args, [&](const auto& p) { return ops::ReadFile(ctx, p); });
  if (op == "readDirectory")
    return Run<ops::ReadDirectoryParams>(op, args, [&](const auto& p) { return ops::ReadDirectory(ctx, p); });
  if (op == "getMetadata")
    return Run<ops::GetMetadataParams>(op, args, [&](const auto& p) { return ops::GetMetadata(ctx, p); });
  if (op == "writeFile")
    return Run<ops::WriteFileParams>(op, args, [&](const auto& p) { return ops::WriteFile(ctx, p); });
  if (op == "applyPatch")
    return Run<ops::ApplyPatchParams>(op, args, [&](const auto& p) { return ops::ApplyPatch(ctx, p); });
  return ErrorReply(ErrorKind::kUnsupported, "operation " + op + " is not available");
}

}  // namespace cordon::linux_sandbox
