#include "server/file_tool_text.h"

#include <cstdio>
#include <string_view>

namespace cordon::server {
namespace {

// Cuts `s` to at most `n` bytes without splitting a UTF-8 sequence.
std::string_view Utf8Prefix(std::string_view s, size_t n) {
  if (s.size() <= n) return s;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

std::string Roots(const std::vector<std::string>& roots) {
  std::string out;
  for (const auto& r : roots) out += (out.empty() ? "" : ", ") + r;
  return out.empty() ? "(none)" : out;
}

}  // namespace

std::string NumberedText(const std::string& path, const ops::ReadFileResult& res) {
  const std::string& text = res.content;
  if (text.find('\0') != std::string::npos)
    return path + " is a binary file (" + std::to_string(res.size) + " bytes, sha256 " + res.sha256 +
           "); it is not shown as text. Read it as a resource (resources/read) to get its bytes.";
  if (res.totalLines == 0) return "[lines 0-0 of 0] (" + path + " is empty)";
  if (res.startLine > res.totalLines)
    return "[no lines: offset " + std::to_string(res.startLine) + " is past the end of " + path + ", which has " +
           std::to_string(res.totalLines) + " lines]";
  std::string out;
  out.reserve(text.size() + text.size() / 8 + 64);
  uint64_t line = res.startLine, last = res.startLine - 1;
  bool cut_text = false;
  char num[32];
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string::npos ? text.size() : nl;
    std::string_view body(text.data() + pos, end - pos);
    if (!body.empty() && body.back() == '\r') body.remove_suffix(1);
    if (out.size() + std::min(body.size(), kToolMaxLineBytes) > kToolMaxTextBytes && last >= res.startLine) {
      cut_text = true;
      break;
    }
    std::snprintf(num, sizeof(num), "%6llu\t", static_cast<unsigned long long>(line));
    out += num;
    std::string_view shown = Utf8Prefix(body, kToolMaxLineBytes);
    out.append(shown);
    if (shown.size() < body.size())
      out += " [... line cut: " + std::to_string(body.size() - shown.size()) + " more bytes]";
    out += '\n';
    last = line++;
    pos = nl == std::string::npos ? text.size() : nl + 1;
  }
  out += "[lines " + std::to_string(res.startLine) + "-" + std::to_string(last) + " of " +
         std::to_string(res.totalLines) + "]";
  if (last < res.totalLines) {
    out += " - call read_file again with offset=" + std::to_string(last + 1) + " for more";
    if (cut_text || res.truncated) out += " (this reply was cut at its size limit)";
  }
  return out;
}

std::string ListingText(const std::string& path, const ops::ReadDirectoryResult& res) {
  constexpr size_t kMaxShown = 2000;
  std::string out;
  size_t shown = 0;
  for (const auto& e : res.entries) {
    if (shown++ == kMaxShown) break;
    if (e.type == "dir") out += e.name + "/\n";
    else if (e.type == "symlink") out += e.name + "@\n";
    else if (e.type == "file") out += e.name + " (" + std::to_string(e.size) + " bytes)\n";
    else out += e.name + " (special file)\n";
  }
  if (res.entries.empty()) out = path + " is empty\n";
  out += "[" + std::to_string(res.entries.size()) + " entries";
  if (res.entries.size() > kMaxShown) out += ", the first " + std::to_string(kMaxShown) + " shown";
  if (res.truncated) out += "; the listing was cut at its entry limit, list a subdirectory or use a smaller depth";
  return out + "]";
}

std::string PatchSummaryText(const ops::ApplyPatchResult& res, bool dry_run) {
  std::string out = dry_run ? "Dry run: the patch applies cleanly; nothing was changed. It would change "
                            : "Applied the patch: ";
  out += std::to_string(res.files.size()) + (res.files.size() == 1 ? " file" : " files") + "\n";
  for (const auto& f : res.files) {
    std::string hunks = f.hunks ? " (" + std::to_string(f.hunks) + (f.hunks == 1 ? " hunk)" : " hunks)") : "";
    if (f.action == "add") out += "A " + f.path + "\n";
    else if (f.action == "delete") out += "D " + f.path + "\n";
    else if (f.action == "move") out += "R " + f.path + " -> " + f.movedTo.value_or("?") + hunks + "\n";
    else out += "M " + f.path + hunks + "\n";
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string ToolErrorText(const std::string& tool, const std::string& path, const Error& error,
                          const SandboxSession* sandbox) {
  std::string out = tool + " failed: " + ErrorKindName(error.kind) + ": " + error.detail;
  switch (error.kind) {
    case ErrorKind::kPolicyDenied:
      if (sandbox) {
        const Policy& p = sandbox->policy();
        out += "\nThe sandbox allows reading under " + Roots(p.workspace_roots()) + " and writing under " +
               Roots(p.writable_roots()) + " (except protected paths such as .git). Symlinks that lead "
               "elsewhere are not followed.";
      }
      break;
    case ErrorKind::kNotFound:
      out += "\nCheck the path with list_directory" + (path.empty() ? std::string() : " on its parent directory") +
             "; relative paths start at the workspace root.";
      break;
    case ErrorKind::kConflict:
      if (tool == "apply_patch")
        out += "\nNo file was changed. Read the file again (read_file) and rewrite the hunk against its "
               "current lines.";
      else
        out += "\nThe file changed since it was read: read it again and retry with its current sha256.";
      break;
    case ErrorKind::kInvalidArgument:
      if (tool == "apply_patch") out += "\nNo file was changed.";
      break;
    default:
      break;
  }
  return out;
}

}  // namespace cordon::server
