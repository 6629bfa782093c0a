// What the file tools say to a model: numbered lines with a `[lines X-Y of N]` trailer, a
// directory listing, a patch summary, and refusals phrased as what to do next. Pure functions
// of the operation results, so they are tested without a sandbox.
#pragma once

#include <string>

#include "sandbox/ops/fs_types.h"
#include "sandbox/session.h"
#include "sandbox/status.h"

namespace cordon::server {

inline constexpr size_t kToolMaxLineBytes = 2000;     // longer lines are cut with a marker
inline constexpr size_t kToolMaxTextBytes = 256 << 10;  // read_file text beyond this is cut at a line

// `     7\tline` per line from res.startLine, then the trailer. A binary file (NUL bytes) is
// described instead of shown.
std::string NumberedText(const std::string& path, const ops::ReadFileResult& res);

// One entry per line: `dir/`, `link@`, `file (N bytes)`.
std::string ListingText(const std::string& path, const ops::ReadDirectoryResult& res);

// `M path (2 hunks)`, `A path`, `D path`, `R old -> new` per file, after a headline.
std::string PatchSummaryText(const ops::ApplyPatchResult& res, bool dry_run);

// `tool: kind: detail` plus a hint: the writable roots for a denial, how to look for a missing
// file, how to rebase a patch whose context did not match. `sandbox` may be null.
std::string ToolErrorText(const std::string& tool, const std::string& path, const Error& error,
                          const SandboxSession* sandbox);

}  // namespace cordon::server
