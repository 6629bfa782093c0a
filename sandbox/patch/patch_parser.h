// One entry point for patch text: picks the Codex envelope or a unified diff (or obeys an
// explicit format) and returns the format-neutral PatchSet.
#pragma once

#include <string_view>

#include "sandbox/patch/patch_types.h"
#include "sandbox/status.h"

namespace cordon::patch {

// "auto" | "codex" | "unified"; anything else is kInvalidArgument.
Result<PatchFormat> ParsePatchFormat(std::string_view name);
const char* PatchFormatName(PatchFormat format);

// kAuto: a text starting with "*** Begin Patch" is Codex, one with diff headers is unified,
// anything else is kInvalidArgument saying which formats are accepted.
Result<PatchSet> ParsePatch(std::string_view text, PatchFormat format = PatchFormat::kAuto);

}  // namespace cordon::patch
