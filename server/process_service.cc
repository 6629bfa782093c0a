#include "server/process_service.h"

#include <unistd.h>

#include <chrono>
#include <ctime>

#include <spdlog/spdlog.h>

#include "sandbox/base64.h"
#include "server/connection.h"
#include "server/errors.h"
#include "server/host_env.h"
#include "server/methods.h"
#include "server/signals.h"

namespace cordon::server {
namespace {

using protocol::Json;
using protocol::RpcError;

constexpr size_t kRetainBytes = 1u << 20;   // tail kept per process for process/read
constexpr size_t kMaxLiveProcesses = 1024;  // per connection
constexpr size_t kReadChunk = 64 * 1024;

std::string NowIso() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", std::gmtime(&t));
  char out[48];
  std::snprintf(out, sizeof(out), "%s.%03dZ", buf, static_cast<int>(ms));
  return out;
}

Json ChunkJson(const RetainedChunk& c) {
  return {{"seq", c.seq}, {"stream", OutputStreamName(c.stream)}, {"data", Base64Encode(c.data)}};
}

}  // namespace

ManagedProcess::~ManagedProcess() {
  if (pump.joinable()) {
    if (pump.get_id() == std::this_thread::get_id()) pump.detach();
    else pump.join();
  }
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    if (n == 2 && c < 0xC2) return false;
    if (n == 3) {
      unsigned char c1 = s[i + 1];
      if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0)) return false;
    }
    if (n == 4) {
      unsigned char c1 = s[i + 1];
      if ((c == 0xF0 && c1 < 0x90) || c > 0xF4 || (c == 0xF4 && c1 >= 0x90)) return false;
    }
    i += n;
  }
  return true;
}

std::string ToValidUtf8(std::string_view s) {
  if (IsValidUtf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    size_t len = 1;
    unsigned char c = s[i];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n > 0 && i + n <= s.size() && IsValidUtf8(s.substr(i, n))) {
      out.append(s.substr(i, n));
      len = n;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD
    }
    i += len;
  }
  return out;
}

Result<StartParams> ParseStartParams(const Json& params, const std::string& method, bool exec_style) {
  StartParams p;
  auto bad = [&](const std::string& field, const std::string& what) {
    return MakeError(ErrorKind::kInvalidArgument, method + ": " + field + ": " + what);
  };
  if (params.contains("sessionId")) {
    if (!params["sessionId"].is_string()) return bad("sessionId", "expected a string");
    p.session_id = params["sessionId"];
  }
  if (params.contains("processId") && !params["processId"].is_null()) {
    if (!params["processId"].is_string() || params["processId"].get<std::string>().empty())
      return bad("processId", "expected a non-empty string");
    p.process_id = params["processId"];
  }
  bool has_argv = params.contains("argv") && !params["argv"].is_null();
  bool has_command = params.contains("command") && !params["command"].is_null();
  if (has_argv == has_command) return bad("argv", "give exactly one of argv (array) or command (string)");
  if (has_argv) {
    const Json& a = params["argv"];
    if (!a.is_array() || a.empty()) return bad("argv", "expected a non-empty array of strings");
    for (const auto& s : a) {
      if (!s.is_string()) return bad("argv", "expected a non-empty array of strings");
      std::string arg = s.get<std::string>();
      if (arg.find('\0') != std::string::npos) return bad("argv", "arguments must not contain NUL");
      p.argv.push_back(std::move(arg));
    }
    if (p.argv[0].empty()) return bad("argv", "the program name must not be empty");
  } else {
    if (!params["command"].is_string() || params["command"].get<std::string>().empty())
      return bad("command", "expected a non-empty string");
    p.argv = ShellCommand(params["command"].get<std::string>());
  }
  if (params.contains("cwd") && !params["cwd"].is_null()) {
    if (!params["cwd"].is_string()) return bad("cwd", "expected a string");
    p.cwd = params["cwd"];
  }
  if (params.contains("env") && !params["env"].is_null()) {
    if (!params["env"].is_object()) return bad("env", "expected an object of strings");
    for (const auto& [k, v] : params["env"].items()) {
      if (!v.is_string() || k.empty() || k.find('=') != std::string::npos || k.find('\0') != std::string::npos)
        return bad("env." + k, "expected a string value and a name without '='");
      p.env.emplace_back(k, v.get<std::string>());
    }
  }
  auto uint_field = [&](const char* name, uint64_t max, uint64_t* out) -> Status {
    if (!params.contains(name) || params[name].is_null()) return OkStatus();
    const Json& v = params[name];
    if (!(v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0)))
      return bad(name, "expected a non-negative integer");
    if (v.get<uint64_t>() > max) return bad(name, "too large");
    *out = v.get<uint64_t>();
    return OkStatus();
  };
  uint64_t timeout = 0, max_out = 0, cols = 80, rows = 24;
  for (Status s : {uint_field("timeoutMs", 7ull * 24 * 3600 * 1000, &timeout), uint_field("timeout_ms", 7ull * 24 * 3600 * 1000, &timeout),
                   uint_field("maxOutputBytes", 1ull << 40, &max_out), uint_field("cols", 10000, &cols),
                   uint_field("rows", 10000, &rows)})
    if (!s) return s.error();
  p.timeout_ms = static_cast<uint32_t>(timeout);
  p.max_output_bytes = max_out;
  p.cols = static_cast<uint16_t>(cols ? cols : 80);
  p.rows = static_cast<uint16_t>(rows ? rows : 24);
  if (!exec_style) {
    if (params.contains("tty") && !params["tty"].is_null()) {
      if (!params["tty"].is_boolean()) return bad("tty", "expected a boolean");
      p.tty = params["tty"];
    }
    if (params.contains("stdin") && !params["stdin"].is_null()) {
      if (params["stdin"] == "pipe") p.stdin_pipe = true;
      else if (params["stdin"] == "null") p.stdin_pipe = false;
      else return bad("stdin", "expected \"pipe\" or \"null\"");
    } else {
      p.stdin_pipe = p.tty;
    }
  } else if (params.contains("stdin") && !params["stdin"].is_null()) {
    if (!params["stdin"].is_string()) return bad("stdin", "expected a string");
    p.stdin_data = params["stdin"].get<std::string>();
    p.stdin_pipe = true;
  }
  return p;
}

ProcessService::ProcessService(Connection& connection) : connection_(connection) {}

ProcessService::~ProcessService() { Shutdown(); }

std::string ProcessService::NewId() {
  for (;;) {
    std::string id = "p" + std::to_string(next_id_++);
    if (!used_ids_.count(id)) return id;
  }
}

Result<std::shared_ptr<ManagedProcess>> ProcessService::Start(StartParams params, bool register_id,
                                                              std::function<void(ManagedProcess&)> setup) {
  auto session = connection_.sessions().Get(params.session_id);
  if (!session) return session.error();
  const Policy& policy = (*session)->sandbox->policy();

  auto entry = std::make_shared<ManagedProcess>();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_) return MakeError(ErrorKind::kCancelled, "the connection is closing");
    size_t live = 0;
    for (auto& [id, p] : processes_) live += !p->closed;
    if (live + anonymous_.size() >= kMaxLiveProcesses)
      return MakeError(ErrorKind::kLimitExceeded, "too many running processes on this connection");
    if (register_id) {
      if (params.process_id.empty()) params.process_id = NewId();
      else if (used_ids_.count(params.process_id))
        return MakeError(ErrorKind::kConflict, "processId " + params.process_id + " was already used on this connection");
      used_ids_.insert(params.process_id);
    }
  }
  entry->id = params.process_id;
  entry->session_id = (*session)->id;
  entry->argv = params.argv;
  entry->started_at = NowIso();
  entry->notify = register_id;

  SpawnRequest req;
  req.argv = params.argv;
  const std::string& root = policy.workspace_roots().front();
  std::string cwd = params.cwd.empty() ? root : (params.cwd[0] == '/' ? params.cwd : root + "/" + params.cwd);
  auto norm = NormalizeAbsolutePath(cwd);
  if (!norm) return norm.error();
  req.cwd = *norm;
  req.env = BuildEnvironment(policy.env(), ServerEnvironment(), params.env);
  req.tty = params.tty;
  req.cols = params.cols;
  req.rows = params.rows;
  req.stdin_pipe = params.stdin_pipe;
  uint32_t policy_timeout = policy.limits().wall_timeout_ms;
  req.timeout_ms = params.timeout_ms;
  if (policy_timeout && (!req.timeout_ms || req.timeout_ms > policy_timeout)) req.timeout_ms = policy_timeout;
  uint64_t cap = policy.limits().max_output_bytes;
  entry->max_output = params.max_output_bytes;
  if (cap && (!entry->max_output || entry->max_output > cap)) entry->max_output = cap;

  auto proc = (*session)->sandbox->Spawn(req);
  if (!proc) return proc.error();
  entry->proc = std::move(*proc);
  entry->pid = entry->proc->pid();
  if (params.stdin_data) {
    // Written from the pool so a child that does not read cannot stall this thread.
    std::string data = std::move(*params.stdin_data);
    std::weak_ptr<ManagedProcess> weak = entry;
    pool_.Post([weak, data = std::move(data)] {
      if (auto p = weak.lock()) {
        (void)p->proc->WriteStdin(data);
        (void)p->proc->CloseStdin();
      }
    });
  }
  if (setup) setup(*entry);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (register_id) processes_[entry->id] = entry;
    else anonymous_.push_back(entry);
  }
  entry->pump = std::thread([this, entry] { Pump(entry); });
  return entry;
}

void ProcessService::Pump(const std::shared_ptr<ManagedProcess>& p) {
  auto& d = connection_.dispatcher();
  bool over_limit = false;
  for (;;) {
    auto chunk = p->proc->ReadOutput(kReadChunk);
    if (!chunk || chunk->eof) break;
    if (over_limit) continue;  // drain what is left while the tree is being killed
    std::string data = std::move(chunk->data);
    uint64_t seq;
    {
      std::lock_guard<std::mutex> lock(p->mu);
      if (p->max_output && p->total_output + data.size() > p->max_output) {
        data.resize(p->max_output - p->total_output);
        p->truncated = true;
        over_limit = true;
      }
      p->total_output += data.size();
      seq = p->next_seq++;
      if (!p->collect) {
        p->retained.push_back({seq, chunk->stream, data});
        p->retained_bytes += data.size();
        while (p->retained_bytes > kRetainBytes && p->retained.size() > 1) {
          p->retained_bytes -= p->retained.front().data.size();
          p->retained.pop_front();
        }
      } else {
        (chunk->stream == OutputStream::kStderr ? p->err : p->out) += data;
      }
    }
    p->cv.notify_all();
    if (p->notify && !data.empty())
      d.Notify("process/output", {{"processId", p->id}, {"seq", seq}, {"stream", OutputStreamName(chunk->stream)}, {"data", Base64Encode(data)}});
    if (p->on_output && !data.empty()) p->on_output(chunk->stream, data);
    if (over_limit) (void)p->proc->Kill(KillReason::kOutputLimit);
  }
  ProcessResult result = p->proc->Wait();
  if (p->truncated) {
    result.status = "output_limit";
    result.output_truncated = true;
    if (result.detail.empty()) result.detail = "output exceeded " + std::to_string(p->max_output) + " bytes; the process tree was killed";
  }
  uint64_t exit_seq, close_seq;
  {
    std::lock_guard<std::mutex> lock(p->mu);
    p->result = result;
    p->exited = true;
    exit_seq = p->next_seq++;
  }
  p->cv.notify_all();
  if (p->notify) d.Notify("process/exited", {{"processId", p->id}, {"seq", exit_seq}, {"result", ToJson(result)}});
  {
    std::lock_guard<std::mutex> lock(p->mu);
    p->closed = true;
    close_seq = p->next_seq++;
  }
  p->cv.notify_all();
  if (p->notify) d.Notify("process/closed", {{"processId", p->id}, {"seq", close_seq}});
  if (p->on_done) p->on_done(*p);
  std::lock_guard<std::mutex> lock(mu_);
  if (!p->notify) {
    for (auto it = anonymous_.begin(); it != anonymous_.end(); ++it) {
      if (it->get() == p.get()) {
        p->pump.detach();  // this thread is finishing; nothing will join it
        anonymous_.erase(it);
        break;
      }
    }
  }
}

Result<std::shared_ptr<ManagedProcess>> ProcessService::Find(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = processes_.find(id);
  if (it == processes_.end()) return MakeError(ErrorKind::kNotFound, "unknown process " + id);
  return it->second;
}

std::vector<std::shared_ptr<ManagedProcess>> ProcessService::All() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<ManagedProcess>> out;
  for (auto& [id, p] : processes_) out.push_back(p);
  return out;
}

size_t ProcessService::CloseSession(const std::string& session_id) {
  std::vector<std::shared_ptr<ManagedProcess>> victims;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, p] : processes_)
      if (p->session_id == session_id) victims.push_back(p);
    for (auto& p : anonymous_)
      if (p->session_id == session_id) victims.push_back(p);
  }
  size_t running = 0;
  for (auto& p : victims) {
    if (!p->proc->exited()) ++running;
    (void)p->proc->Kill(KillReason::kSessionClosed);
  }
  return running;
}

void ProcessService::Shutdown() {
  std::map<std::string, std::shared_ptr<ManagedProcess>> all;
  std::vector<std::shared_ptr<ManagedProcess>> anon;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_) return;
    shutting_down_ = true;
    all = processes_;
    anon = anonymous_;
  }
  for (auto& [id, p] : all) (void)p->proc->Kill(KillReason::kSessionClosed);
  for (auto& p : anon) (void)p->proc->Kill(KillReason::kSessionClosed);
  pool_.Shutdown();
  for (auto& [id, p] : all)
    if (p->pump.joinable()) p->pump.join();
  for (auto& p : anon)
    if (p->pump.joinable() && p->pump.get_id() != std::this_thread::get_id()) p->pump.join();
}

void ProcessService::Register(protocol::McpServer& mcp) {
  auto& d = connection_.dispatcher();
  d.Register("process/start", [this](const Json& params, protocol::CallContext, protocol::ReplyOnce reply) {
    auto sp = ParseStartParams(params, "process/start", false);
    if (!sp) return reply.Fail(ToRpcError(sp.error()));
    auto p = Start(std::move(*sp), true, nullptr);
    if (!p) return reply.Fail(ToRpcError(p.error()));
    reply.Ok({{"processId", (*p)->id}, {"pid", (*p)->pid}});
  });
  d.Register("exec", [this](const Json& params, protocol::CallContext ctx, protocol::ReplyOnce reply) {
    auto sp = ParseStartParams(params, "exec", true);
    if (!sp) return reply.Fail(ToRpcError(sp.error()));
    auto shared_reply = std::make_shared<protocol::ReplyOnce>(std::move(reply));
    auto p = Start(std::move(*sp), false, [shared_reply](ManagedProcess& mp) {
      mp.collect = true;
      mp.on_done = [shared_reply](ManagedProcess& done) {
        Json out = {{"result", ToJson(done.result)}};
        for (auto [name, text] : {std::pair<const char*, std::string*>{"stdout", &done.out}, {"stderr", &done.err}}) {
          if (IsValidUtf8(*text)) out[name] = *text;
          else if (text->find('\0') != std::string::npos) out[std::string(name) + "Base64"] = Base64Encode(*text);
          else out[name] = ToValidUtf8(*text);
        }
        shared_reply->Ok(std::move(out));
      };
    });
    if (!p) return shared_reply->Fail(ToRpcError(p.error()));
    std::weak_ptr<ManagedProcess> weak = *p;
    ctx.cancel->OnCancel([weak] {
      if (auto mp = weak.lock()) (void)mp->proc->Kill(KillReason::kCancelled);
    });
  });
  d.Register("process/read", [this](const Json& params, protocol::CallContext, protocol::ReplyOnce reply) {
    if (!params.contains("processId") || !params["processId"].is_string())
      return reply.Fail(BadParam("process/read", "processId", "required string"));
    auto p = Find(params["processId"]);
    if (!p) return reply.Fail(ToRpcError(p.error()));
    uint64_t after = params.value("afterSeq", Json(0)).is_number() ? params.value("afterSeq", 0ull) : 0;
    uint64_t max_bytes = params.value("maxBytes", Json(1 << 20)).is_number() ? params.value("maxBytes", 1ull << 20) : (1 << 20);
    uint64_t wait_ms = params.value("waitMs", Json(0)).is_number() ? params.value("waitMs", 0ull) : 0;
    if (wait_ms > 60000) wait_ms = 60000;
    auto proc = *p;
    auto run = [proc, after, max_bytes, wait_ms, r = std::make_shared<protocol::ReplyOnce>(std::move(reply))] {
      std::unique_lock<std::mutex> lock(proc->mu);
      auto has_news = [&] {
        return proc->closed || (!proc->retained.empty() && proc->retained.back().seq > after) || proc->exited;
      };
      if (wait_ms) proc->cv.wait_for(lock, std::chrono::milliseconds(wait_ms), has_news);
      Json chunks = Json::array();
      uint64_t next = after + 1;
      size_t bytes = 0;
      for (const auto& c : proc->retained) {
        if (c.seq <= after) continue;
        if (bytes > 0 && bytes + c.data.size() > max_bytes) break;
        chunks.push_back(ChunkJson(c));
        bytes += c.data.size();
        next = c.seq + 1;
      }
      bool caught_up = chunks.empty() || next > proc->retained.back().seq;
      Json out = {{"chunks", std::move(chunks)}, {"nextSeq", next}, {"exited", proc->exited && caught_up},
                  {"closed", proc->closed && caught_up}};
      if (proc->exited && caught_up) out["result"] = ToJson(proc->result);
      lock.unlock();
      r->Ok(std::move(out));
    };
    if (wait_ms) pool_.Post(std::move(run));
    else run();
  });
  d.Register("process/write", [this](const Json& params, protocol::CallContext, protocol::ReplyOnce reply) {
    if (!params.contains("processId") || !params["processId"].is_string())
      return reply.Fail(BadParam("process/write", "processId", "required string"));
    std::string data;
    if (params.contains("data") && !params["data"].is_null()) {
      if (!params["data"].is_string()) return reply.Fail(BadParam("process/write", "data", "expected base64 text"));
      auto decoded = Base64Decode(params["data"].get<std::string>());
      if (!decoded) return reply.Fail(BadParam("process/write", "data", "not valid base64"));
      data = std::move(*decoded);
    }
    bool eof = params.value("eof", Json(false)).is_boolean() && params.value("eof", false);
    auto p = Find(params["processId"]);
    if (!p) return reply.Fail(ToRpcError(p.error()));
    auto proc = *p;
    pool_.Post([proc, data = std::move(data), eof, r = std::make_shared<protocol::ReplyOnce>(std::move(reply))] {
      if (!data.empty()) {
        if (Status s = proc->proc->WriteStdin(data); !s) return r->Fail(ToRpcError(s.error()));
      }
      if (eof) {
        if (Status s = proc->proc->CloseStdin(); !s) return r->Fail(ToRpcError(s.error()));
      }
      r->Ok(Json::object());
    });
  });
  d.Register("process/resize", [this](const Json& params, protocol::CallContext, protocol::ReplyOnce reply) {
    if (!params.contains("processId") || !params["processId"].is_string())
      return reply.Fail(BadParam("process/resize", "processId", "required string"));
    for (const char* f : {"cols", "rows"})
      if (!params.contains(f) || !params[f].is_number_unsigned() || params[f].get<uint64_t>() == 0 || params[f].get<uint64_t>() > 10000)
        return reply.Fail(BadParam("process/resize", f, "expected an integer between 1 and 10000"));
    auto p = Find(params["processId"]);
    if (!p) return reply.Fail(ToRpcError(p.error()));
    if (Status s = (*p)->proc->Resize(params["cols"].get<uint16_t>(), params["rows"].get<uint16_t>()); !s)
      return reply.Fail(ToRpcError(s.error()));
    reply.Ok(Json::object());
  });
  d.Register("process/signal", [this](const Json& params, protocol::CallContext, protocol::ReplyOnce reply) {
    if (!params.contains("processId") || !params["processId"].is_string())
      return reply.Fail(BadParam("process/signal", "processId", "required string"));
    int sig = params.contains("signal") && params["signal"].is_string() ? SignalNumber(params["signal"]) : 0;
    if (!sig) return reply.Fail(BadParam("process/signal", "signal", "expected INT, TERM, KILL, HUP or QUIT"));
    auto p = Find(params["processId"]);
    if (!p) return reply.Fail(ToRpcError(p.error()));
    if (Status s = (*p)->proc->Signal(sig); !s) return reply.Fail(ToRpcError(s.error()));
    reply.Ok(Json::object());
  });
  d.Register("process/terminate", [this](const Json& params, protocol::CallContext, protocol::ReplyOnce reply) {
    if (!params.contains("processId") || !params["processId"].is_string())
      return reply.Fail(BadParam("process/terminate", "processId", "required string"));
    auto p = Find(params["processId"]);
    if (!p) return reply.Fail(ToRpcError(p.error()));
    bool running = !(*p)->proc->exited();
    if (Status s = (*p)->proc->Kill(KillReason::kTerminate); !s) return reply.Fail(ToRpcError(s.error()));
    reply.Ok({{"running", running}});
  });
  d.Register("process/list", [this](const Json& params, protocol::CallContext, protocol::ReplyOnce reply) {
    std::string session = SessionIdParam(params);
    Json list = Json::array();
    for (auto& p : All()) {
      if (!session.empty() && p->session_id != session) continue;
      std::lock_guard<std::mutex> lock(p->mu);
      list.push_back({{"processId", p->id}, {"argv", p->argv}, {"pid", p->pid}, {"sessionId", p->session_id},
                      {"state", p->closed ? "closed" : p->exited ? "exited" : "running"}, {"startedAt", p->started_at}});
    }
    reply.Ok({{"processes", std::move(list)}});
  });
  RegisterProcessTools(*this, mcp);
}

}  // namespace cordon::server
