// File operations as the worker runs them: op name + wire-shaped request in, {"ok": result} or
// {"error": {"kind", "detail"}} out. Runs in a forked child of the worker that has dropped every
// capability and loaded the command seccomp filter.
#pragma once

#include <atomic>
#include <string>

#include <nlohmann/json.hpp>

#include "sandbox/policy.h"

namespace cordon::linux_sandbox {

// Ops: "readFile", "readDirectory", "getMetadata", "writeFile", "applyPatch" (sandbox/ops/file_ops.h);
// args are bound with the fs_types from_json (a bad field -> invalid_argument naming it); an
// unknown op is `unsupported`. `cancel` is set by the worker's SIGUSR1 handler.
nlohmann::json RunWorkerOperation(const std::string& op, const nlohmann::json& args, const Policy& policy,
                                  const std::atomic<bool>* cancel);

}  // namespace cordon::linux_sandbox
