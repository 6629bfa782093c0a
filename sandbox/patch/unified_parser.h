// Parser for unified diffs as `diff -u`/`diff -ruN` and `git diff` write them: several files,
// /dev/null (or an epoch timestamp) for created and deleted files, a/ b/ prefixes (one leading
// component is stripped, as `git apply` does by default), git's extended headers (new/deleted
// file mode, old/new mode, rename/copy from/to, similarity, index), quoted names and
// "\ No newline at end of file". Binary patches and symlink/submodule entries are refused.
#pragma once

#include <string_view>

#include "sandbox/patch/patch_types.h"
#include "sandbox/status.h"

namespace cordon::patch {

// True when some line starts a unified diff ("diff --git ", or "--- " followed by "+++ ").
bool LooksLikeUnifiedDiff(std::string_view text);

// Errors are kInvalidArgument with "line N: ..."; binary patches are kUnsupported.
Result<PatchSet> ParseUnifiedDiff(std::string_view text);

}  // namespace cordon::patch
