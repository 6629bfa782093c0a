// Applies the hunks of one parsed file patch to a file's content, in memory. No I/O: the
// patch/apply operation reads the file, calls ApplyHunks, and stages the result.
//
// Unified hunks follow `git apply`: exact bytes, searched outward from the stated line
// (line, +1, -1, +2, ...), a hunk starting at line 1 anchored at the top and one without
// trailing context anchored at the bottom, lines written by an earlier hunk never matched
// again. If no exact match exists the search is repeated ignoring CR before LF, so a diff
// made with LF endings still applies to a CRLF file (its added lines then get CRLF).
// Codex hunks follow the Codex CLI: "@@ anchor" lines, then the preimage, each searched forward
// from the previous hunk at four fuzz levels (see Fuzz); added lines take the file's endings.
// In both modes a context line keeps the file's own bytes.
#pragma once

#include <string>
#include <string_view>

#include "sandbox/patch/patch_types.h"
#include "sandbox/status.h"

namespace cordon::patch {

// Returns the new content, or kConflict naming `display_path`, the hunk ("hunk 2 of 3") and the
// closest matching context (its line number, how many lines agree and the first difference).
Result<std::string> ApplyHunks(const FilePatch& file, std::string_view content,
                               const std::string& display_path);

}  // namespace cordon::patch
