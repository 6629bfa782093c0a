// The format-neutral form of a parsed patch. Both parsers (Codex envelope, unified diff) produce
// a PatchSet; the matcher and the patch/apply operation consume it and never see patch text.
// Lines carry their own terminators so that CRLF and "no newline at end of file" survive exactly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cordon::patch {

enum class PatchFormat { kAuto, kCodex, kUnified };

enum class FileOp {
  kAdd,     // create `path` (unified: must not exist; codex: replaces an existing file)
  kDelete,  // remove `path`
  kUpdate,  // change `path` in place, or move it to `move_to` when set
  kCopy,    // unified only: `move_to` is created from `path` plus the hunks; `path` stays
};

// How a hunk's preimage is located in the file.
enum class MatchMode {
  kUnified,  // git-apply rules: exact bytes, start at the stated line, search outward
  kCodex,    // Codex rules: search forward from the previous hunk with four fuzz levels
};

struct Hunk {
  // Preimage (context and '-' lines) and postimage (context and '+' lines). Each line keeps its
  // terminator ("\n", or none for a last line without a newline); CR stays part of the text.
  std::vector<std::string> old_lines;
  std::vector<std::string> new_lines;
  // For each new line: the index of the old line it repeats (a context line), or -1 for an
  // added line. Context lines keep the file's own bytes when the hunk is applied.
  std::vector<int> new_from_old;
  // Unified: positions from the "@@ -old_start,n +new_start,m @@" header (1-based; 0 for an
  // empty side). Codex: 0.
  int64_t old_start = 0;
  int64_t new_start = 0;
  // Context lines before the first and after the last change (unified; git-apply anchors a hunk
  // without trailing context at the end of the file).
  int leading_context = 0;
  int trailing_context = 0;
  // Codex: the "@@ text" lines that must be found, in order, before the preimage.
  std::vector<std::string> anchors;
  // Codex: "*** End of File" followed the hunk; the preimage is sought at the end first.
  bool at_end_of_file = false;
  // 1-based line of the hunk header in the patch text, for error messages.
  int64_t patch_line = 0;
};

struct FilePatch {
  FileOp op = FileOp::kUpdate;
  std::string path;                    // as written in the patch, prefixes stripped
  std::optional<std::string> move_to;  // kUpdate with a rename, or kCopy's destination
  MatchMode mode = MatchMode::kUnified;
  std::vector<Hunk> hunks;
  // kAdd: the whole new content (codex) or empty, filled from the single hunk (unified).
  std::string add_content;
  // Permission bits requested by the patch ("new file mode 100755", "new mode"); as in git,
  // only the owner-exec bit matters. Absent means "keep" for updates, 0666 & ~umask for adds.
  std::optional<uint32_t> new_mode;
  int64_t patch_line = 0;
};

struct PatchSet {
  PatchFormat format = PatchFormat::kAuto;
  std::vector<FilePatch> files;
};

}  // namespace cordon::patch
