#include "sandbox/win/win_file_ops.h"

#include <exception>

#include "sandbox/ops/file_ops.h"
#include "sandbox/win/impersonation.h"

namespace cordon::win {
namespace {

using nlohmann::json;

// nlohmann's what() starts with "[json.exception.type_error.302] "; the rest names the field.
std::string BindMessage(const std::exception& e) {
  std::string what = e.what();
  if (what.rfind("[json.exception.", 0) == 0) {
    size_t close = what.find("] ");
    if (close != std::string::npos) what = what.substr(close + 2);
  }
  return what;
}

template <class Params, class Fn>
Result<json> Run(const std::string& op, const json& args, HANDLE token, Fn fn) {
  Params params;
  try {
    params = args.get<Params>();
  } catch (const std::exception& e) {
    return MakeError(ErrorKind::kInvalidArgument, op + ": " + BindMessage(e));
  }
  auto as = ScopedImpersonation::Begin(token);
  if (!as) return as.error();
  auto result = fn(params);
  if (!result) return result.error();
  return json(*result);
}

}  // namespace

Result<json> RunFileOperation(const Policy& policy, HANDLE token, const std::string& op, const json& request,
                              const std::atomic<bool>* cancel) {
  ops::FsContext ctx(policy, cancel);
  if (op == "readFile")
    return Run<ops::ReadFileParams>(op, request, token, [&](const auto& p) { return ops::ReadFile(ctx, p); });
  if (op == "readDirectory")
    return Run<ops::ReadDirectoryParams>(op, request, token, [&](const auto& p) { return ops::ReadDirectory(ctx, p); });
  if (op == "getMetadata")
    return Run<ops::GetMetadataParams>(op, request, token, [&](const auto& p) { return ops::GetMetadata(ctx, p); });
  if (op == "writeFile")
    return Run<ops::WriteFileParams>(op, request, token, [&](const auto& p) { return ops::WriteFile(ctx, p); });
  if (op == "applyPatch")
    return Run<ops::ApplyPatchParams>(op, request, token, [&](const auto& p) { return ops::ApplyPatch(ctx, p); });
  return MakeError(ErrorKind::kUnsupported, "operation " + op + " is not available");
}

}  // namespace cordon::win
