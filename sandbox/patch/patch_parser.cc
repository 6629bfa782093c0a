#include "sandbox/patch/patch_parser.h"

#include "sandbox/patch/codex_parser.h"
#include "sandbox/patch/unified_parser.h"

namespace cordon::patch {

Result<PatchFormat> ParsePatchFormat(std::string_view name) {
  if (name == "auto") return PatchFormat::kAuto;
  if (name == "codex") return PatchFormat::kCodex;
  if (name == "unified") return PatchFormat::kUnified;
  return MakeError(ErrorKind::kInvalidArgument,
                   "patch format must be auto, codex or unified, not \"" + std::string(name) + "\"");
}

const char* PatchFormatName(PatchFormat format) {
  switch (format) {
    case PatchFormat::kAuto: return "auto";
    case PatchFormat::kCodex: return "codex";
    case PatchFormat::kUnified: return "unified";
  }
  return "auto";
}

Result<PatchSet> ParsePatch(std::string_view text, PatchFormat format) {
  if (format == PatchFormat::kCodex) return ParseCodexPatch(text);
  if (format == PatchFormat::kUnified) return ParseUnifiedDiff(text);
  if (LooksLikeCodexPatch(text)) return ParseCodexPatch(text);
  if (LooksLikeUnifiedDiff(text)) return ParseUnifiedDiff(text);
  return MakeError(ErrorKind::kInvalidArgument,
                   "the patch is neither a Codex patch (starting with \"*** Begin Patch\") nor a "
                   "unified diff (with \"diff --git\" or \"---\"/\"+++\" headers)");
}

}  // namespace cordon::patch
