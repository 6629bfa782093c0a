// The MCP tools over the process service. Text is written for a model: combined output, then
// one status line; long output is cut in the middle with a marker. A non-zero exit is a normal
// result; isError marks only what the model should treat as a failed call.
#include <spdlog/spdlog.h>

#include "sandbox/base64.h"
#include "server/connection.h"
#include "server/errors.h"
#include "server/process_service.h"

namespace cordon::server {
namespace {

using protocol::Json;

constexpr size_t kToolTextLimit = 32 * 1024;

std::string MiddleTruncate(const std::string& text, size_t limit) {
  if (text.size() <= limit) return text;
  size_t half = limit / 2;
  return text.substr(0, half) + "\n[... " + std::to_string(text.size() - 2 * half) + " bytes omitted ...]\n" +
         text.substr(text.size() - half);
}

std::string StatusLine(const ProcessResult& r) {
  std::string line;
  if (r.status == "exited") line = "[exit status " + std::to_string(r.exit_code.value_or(-1)) + "]";
  else if (r.status == "signaled") line = "[killed by signal " + std::to_string(r.signal.value_or(0)) + "]";
  else line = "[" + r.status + (r.detail.empty() ? "" : ": " + r.detail) + "]";
  return line + " (" + std::to_string(r.wall_ms) + " ms)";
}

bool IsFailure(const ProcessResult& r) { return r.status != "exited" && r.status != "signaled"; }

// No structuredContent on errors: clients validate it against the tool's outputSchema.
Json ErrorResult(const Error& e) {
  return protocol::ToolResult(std::string(ErrorKindName(e.kind)) + ": " + e.detail, nullptr, true);
}

Json CommandSchema(bool with_tty) {
  Json props = {
      {"command", {{"type", "string"}, {"description", "Shell command, run with /bin/sh -c"}}},
      {"argv", {{"type", "array"}, {"items", {{"type", "string"}}}, {"description", "Program and arguments, run without a shell"}}},
      {"cwd", {{"type", "string"}, {"description", "Working directory, absolute or relative to the workspace root"}}},
      {"timeout_ms", {{"type", "integer"}, {"minimum", 0}, {"description", "Kill the command after this many milliseconds"}}},
  };
  if (with_tty) props["tty"] = {{"type", "boolean"}, {"description", "Run in a pseudo-terminal (interactive programs)"}};
  else props["stdin"] = {{"type", "string"}, {"description", "Text written to the command's standard input"}};
  return {{"type", "object"}, {"properties", props}};
}

Json ProcessIdSchema(Json extra = Json::object()) {
  Json props = {{"processId", {{"type", "string"}}}};
  for (auto& [k, v] : extra.items()) props[k] = v;
  return {{"type", "object"}, {"properties", props}, {"required", Json::array({"processId"})}};
}

Json Annotations(const char* title, bool read_only, bool destructive, bool idempotent) {
  return {{"title", title}, {"readOnlyHint", read_only}, {"destructiveHint", destructive},
          {"idempotentHint", idempotent}, {"openWorldHint", false}};
}

// Maps tool arguments onto the native start params.
Result<StartParams> ToolStartParams(const Json& args, const char* tool, bool exec_style) {
  Json p = Json::object();
  for (const char* k : {"command", "argv", "cwd", "tty"})
    if (args.contains(k)) p[k] = args[k];
  if (args.contains("timeout_ms")) p["timeoutMs"] = args["timeout_ms"];
  if (exec_style && args.contains("stdin")) p["stdin"] = args["stdin"];
  if (!exec_style && args.value("tty", false)) p["stdin"] = "pipe";
  if (!exec_style && !args.contains("stdin")) p["stdin"] = "pipe";
  return ParseStartParams(p, tool, exec_style);
}

}  // namespace

void RegisterProcessTools(ProcessService& svc, protocol::McpServer& mcp) {
  protocol::ToolDefinition exec;
  exec.name = "exec";
  exec.title = "Run a command";
  exec.description =
      "Runs a command inside the sandbox and returns its combined output and exit status. Writes are "
      "limited to the workspace's writable roots, the network may be off, and memory, processes and "
      "time are limited (see sandbox_info). Give `command` (a shell command line) or `argv`.";
  exec.input_schema = CommandSchema(false);
  exec.output_schema = {{"type", "object"},
                        {"properties",
                         {{"status", {{"type", "string"}}}, {"exitCode", {{"type", {"integer", "null"}}}},
                          {"stdout", {{"type", "string"}}}, {"stderr", {{"type", "string"}}},
                          {"wallMs", {{"type", "integer"}}}, {"outputTruncated", {{"type", "boolean"}}}}},
                        {"required", Json::array({"status", "stdout", "stderr"})}};
  exec.annotations = Annotations("Run a command", false, true, false);
  mcp.AddTool(exec, [&svc](const Json& args, protocol::CallContext ctx, protocol::ReplyOnce reply) {
    auto sp = ToolStartParams(args, "exec", true);
    if (!sp) return reply.Ok(ErrorResult(sp.error()));
    auto r = std::make_shared<protocol::ReplyOnce>(std::move(reply));
    auto combined = std::make_shared<std::string>();
    Json token = ctx.progress_token;
    auto* dispatcher = &svc.connection().dispatcher();
    auto p = svc.Start(std::move(*sp), false, [r, combined, token, dispatcher](ManagedProcess& mp) {
      mp.collect = true;
      auto progress = std::make_shared<uint64_t>(0);
      mp.on_output = [combined, token, dispatcher, progress](OutputStream, std::string_view data) {
        if (combined->size() < (8u << 20)) combined->append(data);
        *progress += data.size();
        if (!token.is_null())
          dispatcher->Notify("notifications/progress",
                             {{"progressToken", token}, {"progress", *progress}, {"message", ToValidUtf8(data.substr(0, 4096))}});
      };
      mp.on_done = [r, combined](ManagedProcess& done) {
        const ProcessResult& res = done.result;
        std::string text = MiddleTruncate(ToValidUtf8(*combined), kToolTextLimit);
        if (!text.empty() && text.back() != '\n') text += '\n';
        text += StatusLine(res);
        Json structured = {{"status", res.status},
                           {"exitCode", res.exit_code ? Json(*res.exit_code) : Json(nullptr)},
                           {"stdout", MiddleTruncate(ToValidUtf8(done.out), kToolTextLimit)},
                           {"stderr", MiddleTruncate(ToValidUtf8(done.err), kToolTextLimit)},
                           {"wallMs", res.wall_ms},
                           {"outputTruncated", res.output_truncated}};
        r->Ok(protocol::ToolResult(text, structured, IsFailure(res)));
      };
    });
    if (!p) return r->Ok(ErrorResult(p.error()));
    std::weak_ptr<ManagedProcess> weak = *p;
    ctx.cancel->OnCancel([weak] {
      if (auto mp = weak.lock()) (void)mp->proc->Kill(KillReason::kCancelled);
    });
  });

  protocol::ToolDefinition start;
  start.name = "start_process";
  start.title = "Start a long-running command";
  start.description =
      "Starts a command in the sandbox without waiting for it (a dev server, a REPL, a watcher). "
      "Returns a processId; read its output with read_process_output, type into it with "
      "write_process_input, stop it with kill_process.";
  start.input_schema = CommandSchema(true);
  start.output_schema = {{"type", "object"}, {"properties", {{"processId", {{"type", "string"}}}, {"pid", {{"type", "integer"}}}}},
                         {"required", Json::array({"processId"})}};
  start.annotations = Annotations("Start a process", false, true, false);
  mcp.AddTool(start, [&svc](const Json& args, protocol::CallContext, protocol::ReplyOnce reply) {
    auto sp = ToolStartParams(args, "start_process", false);
    if (!sp) return reply.Ok(ErrorResult(sp.error()));
    auto p = svc.Start(std::move(*sp), true, nullptr);
    if (!p) return reply.Ok(ErrorResult(p.error()));
    Json s = {{"processId", (*p)->id}, {"pid", (*p)->pid}};
    reply.Ok(protocol::ToolResult("started process " + (*p)->id, s, false));
  });

  protocol::ToolDefinition read;
  read.name = "read_process_output";
  read.title = "Read process output";
  read.description =
      "Returns the output a started process produced after `afterSeq` (0 for everything kept), "
      "waiting up to `waitMs` for new output, and its exit status once it has ended.";
  read.input_schema = ProcessIdSchema({{"afterSeq", {{"type", "integer"}, {"minimum", 0}}},
                                       {"waitMs", {{"type", "integer"}, {"minimum", 0}, {"maximum", 60000}}}});
  read.output_schema = {{"type", "object"},
                        {"properties", {{"output", {{"type", "string"}}}, {"nextSeq", {{"type", "integer"}}},
                                        {"running", {{"type", "boolean"}}}, {"dropped", {{"type", "boolean"}}},
                                        {"result", {{"type", "object"}}}}},
                        {"required", Json::array({"output", "nextSeq", "running"})}};
  read.annotations = Annotations("Read process output", true, false, true);
  mcp.AddTool(read, [&svc](const Json& args, protocol::CallContext, protocol::ReplyOnce reply) {
    if (!args.contains("processId") || !args["processId"].is_string())
      return reply.Ok(ErrorResult(MakeError(ErrorKind::kInvalidArgument, "processId is required")));
    auto p = svc.Find(args["processId"]);
    if (!p) return reply.Ok(ErrorResult(p.error()));
    uint64_t after = args.value("afterSeq", Json(0)).is_number_unsigned() ? args["afterSeq"].get<uint64_t>() : 0;
    uint64_t wait = args.value("waitMs", Json(0)).is_number_unsigned() ? std::min<uint64_t>(args["waitMs"].get<uint64_t>(), 60000) : 0;
    auto proc = *p;
    auto r = std::make_shared<protocol::ReplyOnce>(std::move(reply));
    svc.WhenNews(proc, after, wait, [proc, after, r] {
      std::unique_lock<std::mutex> lock(proc->mu);
      std::string out;
      uint64_t next = after + 1;
      for (const auto& c : proc->retained) {
        if (c.seq <= after) continue;
        out += c.data;
        next = c.seq + 1;
      }
      bool running = !proc->exited;
      uint64_t missed = proc->MissedAfter(after);
      Json s = {{"output", ToValidUtf8(out)}, {"nextSeq", next}, {"running", running}, {"dropped", missed != 0}};
      std::string text = MiddleTruncate(ToValidUtf8(out), kToolTextLimit);
      if (missed) {
        text = "[earlier output dropped: only the last 1 MiB of a process's output is kept]\n" + text;
      }
      if (!running) {
        s["result"] = ToJson(proc->result);
        if (!text.empty() && text.back() != '\n') text += '\n';
        text += StatusLine(proc->result);
      } else {
        text += "\n[running; next afterSeq " + std::to_string(next - 1) + "]";
      }
      lock.unlock();
      r->Ok(protocol::ToolResult(text, s, false));
    });
  });

  protocol::ToolDefinition write;
  write.name = "write_process_input";
  write.title = "Write process input";
  write.description = "Types text into a started process's standard input (or terminal). Set eof to close its input.";
  write.input_schema = ProcessIdSchema({{"input", {{"type", "string"}}}, {"eof", {{"type", "boolean"}}}});
  write.output_schema = {{"type", "object"}, {"properties", {{"written", {{"type", "integer"}}}}}, {"required", Json::array({"written"})}};
  write.annotations = Annotations("Write process input", false, false, false);
  mcp.AddTool(write, [&svc](const Json& args, protocol::CallContext, protocol::ReplyOnce reply) {
    if (!args.contains("processId") || !args["processId"].is_string())
      return reply.Ok(ErrorResult(MakeError(ErrorKind::kInvalidArgument, "processId is required")));
    auto p = svc.Find(args["processId"]);
    if (!p) return reply.Ok(ErrorResult(p.error()));
    // (operator[] on a const json with a missing key is undefined: look fields up with find.)
    auto input_it = args.find("input");
    auto eof_it = args.find("eof");
    std::string input = input_it != args.end() && input_it->is_string() ? input_it->get<std::string>() : "";
    bool eof = eof_it != args.end() && eof_it->is_boolean() && eof_it->get<bool>();
    auto r = std::make_shared<protocol::ReplyOnce>(std::move(reply));
    size_t size = input.size();
    svc.WriteStdin(*p, std::move(input), eof, [r, size](Status s) {
      if (!s) return r->Ok(ErrorResult(s.error()));
      r->Ok(protocol::ToolResult("wrote " + std::to_string(size) + " bytes", {{"written", size}}, false));
    });
  });

  protocol::ToolDefinition kill;
  kill.name = "kill_process";
  kill.title = "Kill a process";
  kill.description = "Ends a started process and everything it started (SIGTERM, then SIGKILL after a grace period).";
  kill.input_schema = ProcessIdSchema();
  kill.output_schema = {{"type", "object"}, {"properties", {{"wasRunning", {{"type", "boolean"}}}}}, {"required", Json::array({"wasRunning"})}};
  kill.annotations = Annotations("Kill a process", false, true, true);
  mcp.AddTool(kill, [&svc](const Json& args, protocol::CallContext, protocol::ReplyOnce reply) {
    if (!args.contains("processId") || !args["processId"].is_string())
      return reply.Ok(ErrorResult(MakeError(ErrorKind::kInvalidArgument, "processId is required")));
    auto p = svc.Find(args["processId"]);
    if (!p) return reply.Ok(ErrorResult(p.error()));
    bool running = !(*p)->proc->exited();
    (void)(*p)->proc->Kill(KillReason::kTerminate);
    reply.Ok(protocol::ToolResult(running ? "terminating " + (*p)->id : (*p)->id + " had already exited", {{"wasRunning", running}}, false));
  });

  protocol::ToolDefinition list;
  list.name = "list_processes";
  list.title = "List processes";
  list.description = "Lists the processes started with start_process on this connection and their state.";
  list.input_schema = {{"type", "object"}, {"properties", Json::object()}, {"additionalProperties", false}};
  list.output_schema = {{"type", "object"}, {"properties", {{"processes", {{"type", "array"}}}}}, {"required", Json::array({"processes"})}};
  list.annotations = Annotations("List processes", true, false, true);
  mcp.AddTool(list, [&svc](const Json&, protocol::CallContext, protocol::ReplyOnce reply) {
    Json arr = Json::array();
    std::string text;
    for (auto& p : svc.All()) {
      std::lock_guard<std::mutex> lock(p->mu);
      std::string state = p->closed ? "closed" : p->exited ? "exited" : "running";
      std::string cmd;
      for (const auto& a : p->argv) cmd += (cmd.empty() ? "" : " ") + a;
      arr.push_back({{"processId", p->id}, {"argv", p->argv}, {"pid", p->pid}, {"state", state}, {"startedAt", p->started_at}});
      text += p->id + "  " + state + "  " + cmd + "\n";
    }
    if (text.empty()) text = "no processes\n";
    reply.Ok(protocol::ToolResult(text, {{"processes", arr}}, false));
  });
}

}  // namespace cordon::server
