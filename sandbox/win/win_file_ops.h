// The file methods of PROTOCOL.md §6 for a Windows session: the shared ops/ code (over
// win/fs_primitives_win.cc) run in the server process on the calling thread, impersonating the
// session's restricted token. Same op names and result shapes as the Linux worker's.
#pragma once

#include <windows.h>

#include <atomic>
#include <string>

#include <nlohmann/json.hpp>

#include "sandbox/policy.h"
#include "sandbox/status.h"

namespace cordon::win {

// op: "readFile" | "readDirectory" | "getMetadata" | "writeFile" | "applyPatch". `token` may be
// nullptr (no restricted token: danger-full-access).
Result<nlohmann::json> RunFileOperation(const Policy& policy, HANDLE token, const std::string& op,
                                        const nlohmann::json& request, const std::atomic<bool>* cancel);

}  // namespace cordon::win
