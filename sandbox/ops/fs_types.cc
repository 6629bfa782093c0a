#include "sandbox/ops/fs_types.h"

namespace cordon::ops {
namespace {

using nlohmann::json;

[[noreturn]] void Bad(const json& j, const std::string& what) {
  throw json::type_error::create(302, what, &j);
}

void RequireObject(const json& j) {
  if (!j.is_object()) Bad(j, "params must be an object");
}

// A present, non-null field; json::at throws out_of_range (403) naming a missing one.
const json* Field(const json& j, const char* key, bool required) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) (void)j.at(key);
    return nullptr;
  }
  return &*it;
}

std::string GetString(const json& j, const char* key, bool required, std::string dflt = {}) {
  const json* f = Field(j, key, required);
  if (!f) return dflt;
  if (!f->is_string()) Bad(*f, std::string("field \"") + key + "\" must be a string");
  return f->get<std::string>();
}

std::optional<uint64_t> GetUnsigned(const json& j, const char* key, bool required = false) {
  const json* f = Field(j, key, required);
  if (!f) return std::nullopt;
  if (!f->is_number_unsigned())
    Bad(*f, std::string("field \"") + key + "\" must be a non-negative integer");
  return f->get<uint64_t>();
}

bool GetBool(const json& j, const char* key, bool dflt) {
  const json* f = Field(j, key, false);
  if (!f) return dflt;
  if (!f->is_boolean()) Bad(*f, std::string("field \"") + key + "\" must be a boolean");
  return f->get<bool>();
}

std::optional<std::string> GetOptString(const json& j, const char* key) {
  if (!Field(j, key, false)) return std::nullopt;
  return GetString(j, key, false);
}

const char* EncodingName(Encoding e) { return e == Encoding::kBase64 ? "base64" : "utf8"; }

Encoding GetEncoding(const json& j) {
  std::string name = GetString(j, "encoding", false, "utf8");
  if (name == "utf8" || name == "utf-8") return Encoding::kUtf8;
  if (name == "base64") return Encoding::kBase64;
  Bad(j.at("encoding"), "field \"encoding\" must be \"utf8\" or \"base64\"");
}

}  // namespace

void to_json(json& j, const ReadFileParams& v) {
  j = json{{"path", v.path}, {"encoding", EncodingName(v.encoding)}};
  if (v.offset) j["offset"] = *v.offset;
  if (v.limit) j["limit"] = *v.limit;
}
void from_json(const json& j, ReadFileParams& v) {
  RequireObject(j);
  v.path = GetString(j, "path", true);
  v.offset = GetUnsigned(j, "offset");
  v.limit = GetUnsigned(j, "limit");
  v.encoding = GetEncoding(j);
}

void to_json(json& j, const ReadFileResult& v) {
  j = json{{"content", v.content},     {"encoding", EncodingName(v.encoding)},
           {"totalLines", v.totalLines}, {"startLine", v.startLine},
           {"endLine", v.endLine},     {"truncated", v.truncated},
           {"size", v.size},           {"sha256", v.sha256}};
}
void from_json(const json& j, ReadFileResult& v) {
  RequireObject(j);
  v.content = GetString(j, "content", true);
  v.encoding = GetEncoding(j);
  v.totalLines = *GetUnsigned(j, "totalLines", true);
  v.startLine = *GetUnsigned(j, "startLine", true);
  v.endLine = *GetUnsigned(j, "endLine", true);
  v.truncated = GetBool(j, "truncated", false);
  v.size = *GetUnsigned(j, "size", true);
  v.sha256 = GetString(j, "sha256", true);
}

void to_json(json& j, const ReadDirectoryParams& v) { j = json{{"path", v.path}, {"depth", v.depth}}; }
void from_json(const json& j, ReadDirectoryParams& v) {
  RequireObject(j);
  v.path = GetString(j, "path", true);
  auto depth = GetUnsigned(j, "depth").value_or(1);
  if (depth < 1 || depth > 64) Bad(j.at("depth"), "field \"depth\" must be between 1 and 64");
  v.depth = static_cast<uint32_t>(depth);
}

void to_json(json& j, const DirEntry& v) { j = json{{"name", v.name}, {"type", v.type}, {"size", v.size}}; }
void from_json(const json& j, DirEntry& v) {
  RequireObject(j);
  v.name = GetString(j, "name", true);
  v.type = GetString(j, "type", true);
  v.size = GetUnsigned(j, "size").value_or(0);
}

void to_json(json& j, const ReadDirectoryResult& v) {
  j = json{{"entries", v.entries}, {"truncated", v.truncated}};
}
void from_json(const json& j, ReadDirectoryResult& v) {
  RequireObject(j);
  const json& entries = j.at("entries");
  if (!entries.is_array()) Bad(entries, "field \"entries\" must be an array");
  v.entries = entries.get<std::vector<DirEntry>>();
  v.truncated = GetBool(j, "truncated", false);
}

void to_json(json& j, const GetMetadataParams& v) { j = json{{"path", v.path}}; }
void from_json(const json& j, GetMetadataParams& v) {
  RequireObject(j);
  v.path = GetString(j, "path", true);
}

void to_json(json& j, const MetadataResult& v) {
  j = json{{"type", v.type}, {"size", v.size}, {"mode", v.mode}, {"mtimeMs", v.mtimeMs}};
  if (v.sha256) j["sha256"] = *v.sha256;
}
void from_json(const json& j, MetadataResult& v) {
  RequireObject(j);
  v.type = GetString(j, "type", true);
  v.size = *GetUnsigned(j, "size", true);
  v.mode = static_cast<uint32_t>(*GetUnsigned(j, "mode", true));
  const json& mtime = j.at("mtimeMs");
  if (!mtime.is_number_integer()) Bad(mtime, "field \"mtimeMs\" must be an integer");
  v.mtimeMs = mtime.get<int64_t>();
  v.sha256 = GetOptString(j, "sha256");
}

void to_json(json& j, const WriteFileParams& v) {
  j = json{{"path", v.path},
           {"content", v.content},
           {"encoding", EncodingName(v.encoding)},
           {"createParents", v.createParents}};
  if (v.expectedSha256) j["expectedSha256"] = *v.expectedSha256;
}
void from_json(const json& j, WriteFileParams& v) {
  RequireObject(j);
  v.path = GetString(j, "path", true);
  v.content = GetString(j, "content", true);
  v.encoding = GetEncoding(j);
  v.createParents = GetBool(j, "createParents", false);
  v.expectedSha256 = GetOptString(j, "expectedSha256");
}

void to_json(json& j, const WriteFileResult& v) { j = json{{"sha256", v.sha256}}; }
void from_json(const json& j, WriteFileResult& v) {
  RequireObject(j);
  v.sha256 = GetString(j, "sha256", true);
}

void to_json(json& j, const ApplyPatchParams& v) {
  j = json{{"patch", v.patch}, {"format", v.format}, {"dryRun", v.dryRun}};
}
void from_json(const json& j, ApplyPatchParams& v) {
  RequireObject(j);
  v.patch = GetString(j, "patch", true);
  v.format = GetString(j, "format", false, "auto");
  if (v.format != "auto" && v.format != "codex" && v.format != "unified")
    Bad(j.at("format"), "field \"format\" must be \"auto\", \"codex\" or \"unified\"");
  v.dryRun = GetBool(j, "dryRun", false);
}

void to_json(json& j, const PatchFileReport& v) {
  j = json{{"path", v.path}, {"action", v.action}, {"hunks", v.hunks}};
  if (v.movedTo) j["movedTo"] = *v.movedTo;
}
void from_json(const json& j, PatchFileReport& v) {
  RequireObject(j);
  v.path = GetString(j, "path", true);
  v.action = GetString(j, "action", true);
  v.movedTo = GetOptString(j, "movedTo");
  v.hunks = static_cast<uint32_t>(GetUnsigned(j, "hunks").value_or(0));
}

void to_json(json& j, const ApplyPatchResult& v) { j = json{{"applied", v.applied}, {"files", v.files}}; }
void from_json(const json& j, ApplyPatchResult& v) {
  RequireObject(j);
  v.applied = GetBool(j, "applied", false);
  const json& files = j.at("files");
  if (!files.is_array()) Bad(files, "field \"files\" must be an array");
  v.files = files.get<std::vector<PatchFileReport>>();
}

}  // namespace cordon::ops
