// Request and result values of the file methods (PROTOCOL.md §6), with their JSON converters
// right beside them. The same structs travel broker<->worker and are bound by the server's
// method table; field names keep the wire's spelling. from_json throws nlohmann's exceptions
// (out_of_range for a missing field, type_error for a wrong type or value) so the binder can
// answer -32602; absent optional fields and explicit nulls take the defaults below.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cordon::ops {

enum class Encoding { kUtf8, kBase64 };

// ---- fs/readFile ----
struct ReadFileParams {
  std::string path;
  std::optional<uint64_t> offset;  // utf8: first line, 1-based; base64: first byte, 0-based
  std::optional<uint64_t> limit;   // utf8: lines; base64: bytes
  Encoding encoding = Encoding::kUtf8;
};
void to_json(nlohmann::json& j, const ReadFileParams& v);
void from_json(const nlohmann::json& j, ReadFileParams& v);

struct ReadFileResult {
  std::string content;        // utf8 text (invalid bytes replaced by U+FFFD) or base64
  Encoding encoding = Encoding::kUtf8;
  uint64_t totalLines = 0;    // lines in the whole file (a last line without '\n' counts)
  uint64_t startLine = 0;     // utf8: first returned line (1-based); base64: 0
  uint64_t endLine = 0;       // utf8: last returned line (startLine - 1 when none); base64: 0
  bool truncated = false;     // the size cap cut the range short
  uint64_t size = 0;          // bytes in the whole file
  std::string sha256;         // of the whole file, lowercase hex
};
void to_json(nlohmann::json& j, const ReadFileResult& v);
void from_json(const nlohmann::json& j, ReadFileResult& v);

// ---- fs/readDirectory ----
struct ReadDirectoryParams {
  std::string path;
  uint32_t depth = 1;  // 1 = the directory's own entries; deeper levels name "sub/entry"
};
void to_json(nlohmann::json& j, const ReadDirectoryParams& v);
void from_json(const nlohmann::json& j, ReadDirectoryParams& v);

struct DirEntry {
  std::string name;  // relative to the listed directory
  std::string type;  // "file" | "dir" | "symlink" | "other"
  uint64_t size = 0;
};
void to_json(nlohmann::json& j, const DirEntry& v);
void from_json(const nlohmann::json& j, DirEntry& v);

struct ReadDirectoryResult {
  std::vector<DirEntry> entries;  // sorted by name
  bool truncated = false;         // the entry cap was reached (an addition to §6)
};
void to_json(nlohmann::json& j, const ReadDirectoryResult& v);
void from_json(const nlohmann::json& j, ReadDirectoryResult& v);

// ---- fs/getMetadata ----
struct GetMetadataParams {
  std::string path;
};
void to_json(nlohmann::json& j, const GetMetadataParams& v);
void from_json(const nlohmann::json& j, GetMetadataParams& v);

struct MetadataResult {
  std::string type;  // as DirEntry::type; a symlink is reported, not followed
  uint64_t size = 0;
  uint32_t mode = 0;  // permission bits (st_mode & 07777)
  int64_t mtimeMs = 0;
  std::optional<std::string> sha256;  // regular files up to the read cap
};
void to_json(nlohmann::json& j, const MetadataResult& v);
void from_json(const nlohmann::json& j, MetadataResult& v);

// ---- fs/writeFile ----
struct WriteFileParams {
  std::string path;
  std::string content;  // text, or base64 when encoding is base64
  Encoding encoding = Encoding::kUtf8;
  bool createParents = false;
  std::optional<std::string> expectedSha256;  // the file must currently hash to this
};
void to_json(nlohmann::json& j, const WriteFileParams& v);
void from_json(const nlohmann::json& j, WriteFileParams& v);

struct WriteFileResult {
  std::string sha256;
};
void to_json(nlohmann::json& j, const WriteFileResult& v);
void from_json(const nlohmann::json& j, WriteFileResult& v);

// ---- patch/apply ----
struct ApplyPatchParams {
  std::string patch;
  std::string format = "auto";  // "auto" | "codex" | "unified" (checked by from_json)
  bool dryRun = false;
};
void to_json(nlohmann::json& j, const ApplyPatchParams& v);
void from_json(const nlohmann::json& j, ApplyPatchParams& v);

struct PatchFileReport {
  std::string path;
  std::string action;  // "add" | "update" | "delete" | "move"
  std::optional<std::string> movedTo;
  uint32_t hunks = 0;
};
void to_json(nlohmann::json& j, const PatchFileReport& v);
void from_json(const nlohmann::json& j, PatchFileReport& v);

struct ApplyPatchResult {
  bool applied = false;  // false for a dry run
  std::vector<PatchFileReport> files;
};
void to_json(nlohmann::json& j, const ApplyPatchResult& v);
void from_json(const nlohmann::json& j, ApplyPatchResult& v);

}  // namespace cordon::ops
