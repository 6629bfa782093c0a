// The MCP file tools (PROTOCOL.md §7): read_file, list_directory, write_file, apply_patch. Each
// maps its arguments onto the native operation, runs it in the default session's sandbox, and
// writes text for a model: numbered lines with a `[lines X-Y of N]` trailer, one entry per line,
// a summary of what a patch changed. Refusals (denied, not found, a hunk that does not apply)
// are `isError` results whose text says what to do next; they carry no structuredContent,
// because clients validate that against the outputSchema.
#include <algorithm>

#include "sandbox/ops/fs_types.h"
#include "server/connection.h"
#include "server/errors.h"
#include "server/file_calls.h"
#include "server/file_tool_text.h"

namespace cordon::server {
namespace {

using protocol::Json;

constexpr uint64_t kDefaultReadLines = 2000;

Json Annotations(const char* title, bool read_only, bool destructive, bool idempotent) {
  return {{"title", title}, {"readOnlyHint", read_only}, {"destructiveHint", destructive},
          {"idempotentHint", idempotent}, {"openWorldHint", false}};
}

Json Str(const char* description) { return {{"type", "string"}, {"description", description}}; }
Json Int(const char* description, int minimum) {
  return {{"type", "integer"}, {"minimum", minimum}, {"description", description}};
}

// Tool arguments -> native request; a wrong argument is an isError result, not -32602, so the
// model sees what to fix.
template <class T>
bool BindTool(const Json& request, const char* tool, T* out, protocol::ReplyOnce& reply) {
  if (auto bad = BindParams(request, tool, out)) {
    reply.Ok(protocol::ToolResult(bad->message, nullptr, true));
    return false;
  }
  return true;
}

// Copies an optional tool argument onto the native request under its wire name.
void Copy(const Json& args, const char* from, Json& to, const char* name) {
  if (args.contains(from) && !args[from].is_null()) to[name] = args[from];
}

// Runs `op` in the default session and hands the result (or an isError text) to `format`.
void RunTool(Connection& c, const char* tool, const char* op, Json request, protocol::CallContext& ctx,
             protocol::ReplyOnce reply, std::function<Json(const Json&)> format) {
  auto r = std::make_shared<protocol::ReplyOnce>(std::move(reply));
  std::string name = tool;
  std::string path = request.value("path", "");
  PostFileOperation(c, "", op, std::move(request), ctx.cancel, [r, name, path, format](FileOpOutcome out) {
    if (!out.result) {
      if (out.result.error().kind == ErrorKind::kCancelled) return r->Fail(ToRpcError(out.result.error()));
      return r->Ok(protocol::ToolResult(ToolErrorText(name, path, out.result.error(), out.sandbox.get()), nullptr, true));
    }
    try {
      r->Ok(format(*out.result));
    } catch (const std::exception& e) {
      r->Ok(protocol::ToolResult(name + ": unexpected result from the sandbox: " + e.what(), nullptr, true));
    }
  });
}

void AddReadFile(Connection& c, protocol::McpServer& mcp) {
  protocol::ToolDefinition t;
  t.name = "read_file";
  t.title = "Read a file";
  t.description =
      "Reads a text file inside the sandbox and returns its lines numbered from 1, followed by a "
      "`[lines X-Y of N]` trailer. Reads at most `limit` lines (default 2000) starting at line "
      "`offset` (default 1); call again with a larger offset to read further. Very long lines are "
      "cut. Paths are absolute or relative to the workspace root; only the workspace is readable.";
  t.input_schema = {{"type", "object"},
                    {"properties",
                     {{"path", Str("File to read, absolute or relative to the workspace root")},
                      {"offset", Int("First line to return, 1-based", 1)},
                      {"limit", Int("Maximum number of lines to return (default 2000)", 1)}}},
                    {"required", Json::array({"path"})}};
  t.output_schema = {{"type", "object"},
                     {"properties",
                      {{"path", {{"type", "string"}}},
                       {"content", {{"type", "string"}}},
                       {"startLine", {{"type", "integer"}}},
                       {"endLine", {{"type", "integer"}}},
                       {"totalLines", {{"type", "integer"}}},
                       {"size", {{"type", "integer"}}},
                       {"sha256", {{"type", "string"}}},
                       {"truncated", {{"type", "boolean"}}}}},
                     {"required", Json::array({"path", "content", "startLine", "endLine", "totalLines", "sha256"})}};
  t.annotations = Annotations("Read a file", true, false, true);
  mcp.AddTool(t, [&c](const Json& args, protocol::CallContext ctx, protocol::ReplyOnce reply) {
    Json req = Json::object();
    Copy(args, "path", req, "path");
    Copy(args, "offset", req, "offset");
    req["limit"] = kDefaultReadLines;
    Copy(args, "limit", req, "limit");
    ops::ReadFileParams p;
    if (!BindTool(req, "read_file", &p, reply)) return;
    RunTool(c, "read_file", "readFile", Json(p), ctx, std::move(reply), [path = p.path](const Json& j) {
      auto res = j.get<ops::ReadFileResult>();
      Json structured = {{"path", path},          {"content", res.content},       {"startLine", res.startLine},
                         {"endLine", res.endLine}, {"totalLines", res.totalLines}, {"size", res.size},
                         {"sha256", res.sha256},   {"truncated", res.truncated}};
      return protocol::ToolResult(NumberedText(path, res), std::move(structured), false);
    });
  });
}

void AddListDirectory(Connection& c, protocol::McpServer& mcp) {
  protocol::ToolDefinition t;
  t.name = "list_directory";
  t.title = "List a directory";
  t.description =
      "Lists a directory inside the sandbox: one entry per line, directories end in `/`, symlinks "
      "are shown (never followed) with `@`, files with their size. `depth` > 1 also lists "
      "subdirectories (entries named `sub/entry`). `path` defaults to the workspace root.";
  t.input_schema = {{"type", "object"},
                    {"properties",
                     {{"path", Str("Directory, absolute or relative to the workspace root (default: the root)")},
                      {"depth", Int("Levels to list, 1-8 (default 1)", 1)}}}};
  t.output_schema = {
      {"type", "object"},
      {"properties",
       {{"path", {{"type", "string"}}},
        {"entries",
         {{"type", "array"},
          {"items",
           {{"type", "object"},
            {"properties",
             {{"name", {{"type", "string"}}},
              {"type", {{"type", "string"}, {"enum", Json::array({"file", "dir", "symlink", "other"})}}},
              {"size", {{"type", "integer"}}}}},
            {"required", Json::array({"name", "type"})}}}}},
        {"truncated", {{"type", "boolean"}}}}},
      {"required", Json::array({"path", "entries"})}};
  t.annotations = Annotations("List a directory", true, false, true);
  mcp.AddTool(t, [&c](const Json& args, protocol::CallContext ctx, protocol::ReplyOnce reply) {
    Json req = {{"path", "."}};
    Copy(args, "path", req, "path");
    Copy(args, "depth", req, "depth");
    if (req["depth"].is_number_unsigned() && req["depth"].get<uint64_t>() > 8) req["depth"] = 8;
    ops::ReadDirectoryParams p;
    if (!BindTool(req, "list_directory", &p, reply)) return;
    RunTool(c, "list_directory", "readDirectory", Json(p), ctx, std::move(reply), [path = p.path](const Json& j) {
      auto res = j.get<ops::ReadDirectoryResult>();
      Json structured = {{"path", path}, {"entries", res.entries}, {"truncated", res.truncated}};
      return protocol::ToolResult(ListingText(path, res), std::move(structured), false);
    });
  });
}

void AddWriteFile(Connection& c, protocol::McpServer& mcp) {
  protocol::ToolDefinition t;
  t.name = "write_file";
  t.title = "Write a file";
  t.description =
      "Creates or replaces a whole text file inside the sandbox, atomically (other readers see the "
      "old or the new content, never a mix). Missing parent directories are created. Only the "
      "writable roots are writable; `.git` and other protected paths are not. Give "
      "`expected_sha256` (from read_file) to refuse the write if the file changed meanwhile. "
      "Prefer apply_patch for changes to existing files.";
  t.input_schema = {{"type", "object"},
                    {"properties",
                     {{"path", Str("File to write, absolute or relative to the workspace root")},
                      {"content", Str("The complete new content")},
                      {"expected_sha256", Str("Write only if the file currently has this SHA-256 (hex)")}}},
                    {"required", Json::array({"path", "content"})}};
  t.output_schema = {{"type", "object"},
                     {"properties",
                      {{"path", {{"type", "string"}}}, {"bytes", {{"type", "integer"}}}, {"sha256", {{"type", "string"}}}}},
                     {"required", Json::array({"path", "sha256"})}};
  t.annotations = Annotations("Write a file", false, true, true);
  mcp.AddTool(t, [&c](const Json& args, protocol::CallContext ctx, protocol::ReplyOnce reply) {
    Json req = {{"createParents", true}};
    Copy(args, "path", req, "path");
    Copy(args, "content", req, "content");
    Copy(args, "expected_sha256", req, "expectedSha256");
    ops::WriteFileParams p;
    if (!BindTool(req, "write_file", &p, reply)) return;
    uint64_t bytes = p.content.size();
    RunTool(c, "write_file", "writeFile", Json(p), ctx, std::move(reply), [path = p.path, bytes](const Json& j) {
      auto res = j.get<ops::WriteFileResult>();
      std::string text = "Wrote " + std::to_string(bytes) + " bytes to " + path + " (sha256 " + res.sha256 + ")";
      return protocol::ToolResult(text, {{"path", path}, {"bytes", bytes}, {"sha256", res.sha256}}, false);
    });
  });
}

void AddApplyPatch(Connection& c, protocol::McpServer& mcp) {
  protocol::ToolDefinition t;
  t.name = "apply_patch";
  t.title = "Apply a patch";
  t.description =
      "Applies a patch to files inside the sandbox, all or nothing: if any hunk of any file does not "
      "apply, no file changes and the error names the file, the hunk and the closest matching "
      "lines. Accepts the `*** Begin Patch` format (`*** Add File:`, `*** Update File:` with "
      "`@@` context hunks, `*** Delete File:`, `*** Move to:`, `*** End Patch`) or a unified diff "
      "as `diff -u` / `git diff` print it. Set `dry_run` to check a patch without changing files.";
  t.input_schema = {{"type", "object"},
                    {"properties",
                     {{"patch", Str("The patch text (Codex `*** Begin Patch` envelope or unified diff)")},
                      {"dry_run", {{"type", "boolean"}, {"description", "Check and report, change nothing"}}}}},
                    {"required", Json::array({"patch"})}};
  t.output_schema = {
      {"type", "object"},
      {"properties",
       {{"applied", {{"type", "boolean"}}},
        {"files",
         {{"type", "array"},
          {"items",
           {{"type", "object"},
            {"properties",
             {{"path", {{"type", "string"}}},
              {"action", {{"type", "string"}, {"enum", Json::array({"add", "update", "delete", "move"})}}},
              {"movedTo", {{"type", "string"}}},
              {"hunks", {{"type", "integer"}}}}},
            {"required", Json::array({"path", "action"})}}}}}}},
      {"required", Json::array({"applied", "files"})}};
  t.annotations = Annotations("Apply a patch", false, true, false);
  mcp.AddTool(t, [&c](const Json& args, protocol::CallContext ctx, protocol::ReplyOnce reply) {
    Json req = Json::object();
    Copy(args, "patch", req, "patch");
    Copy(args, "dry_run", req, "dryRun");
    ops::ApplyPatchParams p;
    if (!BindTool(req, "apply_patch", &p, reply)) return;
    bool dry = p.dryRun;
    RunTool(c, "apply_patch", "applyPatch", Json(p), ctx, std::move(reply), [dry](const Json& j) {
      auto res = j.get<ops::ApplyPatchResult>();
      return protocol::ToolResult(PatchSummaryText(res, dry), Json(res), false);
    });
  });
}

}  // namespace

void RegisterFileTools(Connection& c, protocol::McpServer& mcp) {
  AddReadFile(c, mcp);
  AddListDirectory(c, mcp);
  AddWriteFile(c, mcp);
  AddApplyPatch(c, mcp);
}

}  // namespace cordon::server
