// Parser for the Codex CLI's patch envelope, the format models are trained to emit:
//   *** Begin Patch
//   *** Add File: path        then "+line" lines (the whole new file)
//   *** Delete File: path
//   *** Update File: path     optionally "*** Move to: new/path", then hunks:
//   @@ [anchor text]          starts a hunk; lines " ctx", "-old", "+new"; "*** End of File"
//   *** End Patch
// Input is untrusted model output: every malformed line is an error naming its line number;
// nothing here touches the filesystem.
#pragma once

#include <string_view>

#include "sandbox/patch/patch_types.h"
#include "sandbox/status.h"

namespace cordon::patch {

// True when the text (after leading blank lines and an optional heredoc line) starts with
// "*** Begin Patch".
bool LooksLikeCodexPatch(std::string_view text);

// Parses the envelope. Tolerates CRLF, surrounding whitespace on marker lines, a shell heredoc
// wrapper (<<'EOF' ... EOF), blank lines between file sections, a missing "@@" before the first
// hunk of an update, and an empty line inside a hunk (an empty context line). Errors are
// kInvalidArgument with "line N: ...".
Result<PatchSet> ParseCodexPatch(std::string_view text);

}  // namespace cordon::patch
