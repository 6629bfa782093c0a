// File operations as the worker runs them: op name + wire-shaped request in, {"ok": result} or
// {"error": {"kind", "detail"}} out. Runs in a forked child of the worker that has dropped every
// capability and loaded the command seccomp filter.
#pragma once

#include <atomic>
#include <string>

#include <nlohmann/json.hpp>

#include "sandbox/policy.h"

namespace cordon::linux_sandbox {

nlohmann::json RunWorkerOperation(const std::string& op, const nlohmann::json& args, const Policy& policy,
                                  const std::atomic<bool>* cancel);

}  // namespace cordon::linux_sandbox
