#include "server/process_service.h"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <system_error>

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
constexpr size_t kReadChunk = 64 * 1024;  // one notification per read: fewer, larger frames
constexpr size_t kClosedRetainBudget = 32u << 20;  // tails kept for finished processes, in all
constexpr uint64_t kExecCollectCap = 256ull << 20;  // exec output held in memory without a policy cap

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

// process/output as JSON text, built directly: base64 needs no escaping, and running the
// general serializer over every byte of streamed output was the pump's largest cost.
std::string OutputNotification(const std::string& id_json, uint64_t seq, OutputStream stream, std::string_view data) {
  std::string out;
  out.reserve(data.size() / 3 * 4 + 160 + id_json.size());
  out += R"({"jsonrpc":"2.0","method":"process/output","params":{"processId":)";
  out += id_json;
  out += R"(,"seq":)";
  out += std::to_string(seq);
  out += R"(,"stream":")";
  out += OutputStreamName(stream);
  out += R"(","data":")";
  out += Base64Encode(data);
  out += R"("}})";
  return out;
}

// A detached thread; false when the system refuses one (EAGAIN under a thread or memory
// limit), which callers answer as an error rather than losing the work silently.
bool StartThread(std::function<void()> fn) {
  try {
    std::thread(std::move(fn)).detach();
    return true;
  } catch (const std::system_error& e) {
    spdlog::warn("cannot start a thread: {}", e.what());
    return false;
  }
}

}  // namespace

ProcessService::ProcessService(Connection& connection) : connection_(connection) {
  timer_ = std::thread([this] { TimerLoop(); });
}

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
    if (live_pumps_ >= kMaxLiveProcesses)
      return MakeError(ErrorKind::kLimitExceeded, "too many running processes on this connection");
    if (register_id) {
      if (params.process_id.empty()) params.process_id = NewId();
      else if (used_ids_.count(params.process_id))
        return MakeError(ErrorKind::kConflict, "processId " + params.process_id + " was already used on this connection");
      used_ids_.insert(params.process_id);  // taken even if the spawn fails: ids are never reused
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
  if (setup) setup(*entry);
  // exec keeps its whole output in memory: never without a bound, even if the policy has none.
  if (entry->collect && (!entry->max_output || entry->max_output > kExecCollectCap)) entry->max_output = kExecCollectCap;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (register_id) processes_[entry->id] = entry;
    else anonymous_.push_back(entry);
    ++live_pumps_;
  }
  if (!StartThread([this, entry] { Pump(entry); })) {
    // No pump, no reply and no end for this process: undo it now instead of leaving a request
    // unanswered and Shutdown() waiting for a pump that never ran.
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (register_id) processes_.erase(entry->id);
      else std::erase(anonymous_, entry);
      --live_pumps_;
    }
    pumps_cv_.notify_all();
    (void)entry->proc->Kill(KillReason::kCancelled);
    return MakeError(ErrorKind::kLimitExceeded, "cannot start a thread for the process's output");
  }
  // The write ends when the child reads, exits or is killed (EPIPE).
  if (params.stdin_data) WriteStdin(entry, std::move(*params.stdin_data), true, [](Status) {});
  return entry;
}

uint64_t ProcessService::Record(ManagedProcess& p, OutputStream stream, std::string& data, bool* over_limit) {
  std::lock_guard<std::mutex> lock(p.mu);
  if (p.max_output && p.total_output + data.size() > p.max_output) {
    data.resize(p.max_output - p.total_output);
    p.truncated = true;
    *over_limit = true;
  }
  if (data.empty()) return 0;
  p.total_output += data.size();
  uint64_t seq = p.next_seq++;
  if (p.collect) {
    (stream == OutputStream::kStderr ? p.err : p.out) += data;
    return seq;
  }
  p.retained_bytes += data.size();
  p.retained.push_back({seq, stream, data});
  while (p.retained_bytes > kRetainBytes && p.retained.size() > 1) {
    p.retained_bytes -= p.retained.front().data.size();
    p.dropped_through = p.retained.front().seq;
    p.retained.pop_front();
  }
  return seq;
}

void ProcessService::WakeReaders(ManagedProcess& p) {
  std::vector<std::shared_ptr<OnceTask>> ready;
  {
    std::lock_guard<std::mutex> lock(p.mu);
    auto& w = p.waiters;
    for (size_t i = 0; i < w.size();) {
      if (w[i].second->done.load() || p.HasNewsAfter(w[i].first)) {
        ready.push_back(std::move(w[i].second));
        w[i] = std::move(w.back());
        w.pop_back();
      } else {
        ++i;
      }
    }
  }
  for (auto& t : ready) t->Run();
}

void ProcessService::Pump(const std::shared_ptr<ManagedProcess>& p) {
  auto& d = connection_.dispatcher();
  const std::string id_json = Json(p->id).dump(-1, ' ', false, Json::error_handler_t::replace);
  bool over_limit = false;
  for (;;) {
    auto chunk = p->proc->ReadOutput(kReadChunk);
    if (!chunk || chunk->eof) break;
    if (over_limit) continue;  // drain what is left while the tree is being killed
    uint64_t seq = Record(*p, chunk->stream, chunk->data, &over_limit);
    if (seq) {
      // Blocking here (a slow client) leaves the pipe to fill, so the command waits, not us.
      if (p->notify) connection_.SendSerialized(OutputNotification(id_json, seq, chunk->stream, chunk->data));
      if (p->on_output) p->on_output(chunk->stream, chunk->data);
      WakeReaders(*p);
    }
    if (over_limit) (void)p->proc->Kill(KillReason::kOutputLimit);
  }
  ProcessResult result = p->proc->Wait();
  if (p->truncated) {
    result.status = "output_limit";
    result.output_truncated = true;
    result.detail = "output exceeded " + std::to_string(p->max_output) + " bytes; the process tree was killed";
  }
  uint64_t exit_seq, close_seq;
  {
    // The state flips first, so a reader that has seen process/closed never reads "running".
    std::lock_guard<std::mutex> lock(p->mu);
    p->result = result;
    exit_seq = p->next_seq++;
    close_seq = p->next_seq++;
    p->exited = true;
    p->closed = true;
  }
  if (p->notify) {
    d.Notify("process/exited", {{"processId", p->id}, {"seq", exit_seq}, {"result", ToJson(result)}});
    d.Notify("process/closed", {{"processId", p->id}, {"seq", close_seq}});
  }
  WakeReaders(*p);
  if (p->on_done) p->on_done(*p);
  RetireClosed(p);
  std::lock_guard<std::mutex> lock(mu_);
  if (!p->notify) {
    for (auto it = anonymous_.begin(); it != anonymous_.end(); ++it) {
      if (it->get() == p.get()) {
        anonymous_.erase(it);
        break;
      }
    }
  }
  --live_pumps_;
  pumps_cv_.notify_all();  // under mu_: Shutdown cannot return (and free us) before we unlock
}

void ProcessService::RetireClosed(const std::shared_ptr<ManagedProcess>& p) {
  if (!p->notify) return;
  size_t bytes;
  {
    std::lock_guard<std::mutex> lock(p->mu);
    bytes = p->retained_bytes;
  }
  std::lock_guard<std::mutex> lock(mu_);
  closed_.push_back(p);
  closed_bytes_ += bytes;
  while (closed_bytes_ > kClosedRetainBudget && closed_.size() > 1) {
    if (auto old = closed_.front().lock()) {
      std::lock_guard<std::mutex> plock(old->mu);
      closed_bytes_ -= std::min(closed_bytes_, old->retained_bytes);
      if (!old->retained.empty()) old->dropped_through = old->retained.back().seq;
      old->retained.clear();
      old->retained_bytes = 0;
    }
    closed_.pop_front();
  }
}

void ProcessService::WhenNews(const std::shared_ptr<ManagedProcess>& p, uint64_t after, uint64_t wait_ms,
                              std::function<void()> fn) {
  auto task = std::make_shared<OnceTask>(std::move(fn));
  {
    std::lock_guard<std::mutex> lock(p->mu);
    if (wait_ms && !p->HasNewsAfter(after)) {
      p->waiters.emplace_back(after, task);
      std::lock_guard<std::mutex> tlock(timer_mu_);
      if (!timer_stop_) {
        timers_.emplace(std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms), task);
        timer_cv_.notify_one();
        return;
      }
    }
  }
  task->Run();
}

void ProcessService::TimerLoop() {
  std::unique_lock<std::mutex> lock(timer_mu_);
  for (;;) {
    if (timer_stop_) break;
    if (timers_.empty()) {
      timer_cv_.wait(lock);
      continue;
    }
    auto first = timers_.begin();
    if (first->first > std::chrono::steady_clock::now()) {
      timer_cv_.wait_until(lock, first->first);
      continue;
    }
    auto task = std::move(first->second);
    timers_.erase(first);
    lock.unlock();
    task->Run();
    lock.lock();
  }
  // Shutdown: answer every reader still waiting.
  auto rest = std::move(timers_);
  lock.unlock();
  for (auto& [at, task] : rest) task->Run();
}

void ProcessService::WriteStdin(const std::shared_ptr<ManagedProcess>& p, std::string data, bool eof,
                                std::function<void(Status)> done) {
  {
    std::lock_guard<std::mutex> lock(p->mu);
    p->stdin_jobs.push_back({std::move(data), eof, std::move(done)});
    if (p->stdin_writer) return;  // the running writer takes it, in order
    p->stdin_writer = true;
  }
  bool started = StartThread([p] {
    for (;;) {
      ManagedProcess::StdinJob job;
      {
        std::lock_guard<std::mutex> lock(p->mu);
        if (p->stdin_jobs.empty()) {
          p->stdin_writer = false;
          return;
        }
        job = std::move(p->stdin_jobs.front());
        p->stdin_jobs.pop_front();
      }
      Status s = OkStatus();
      if (!job.data.empty()) s = p->proc->WriteStdin(job.data);
      if (s && job.eof) s = p->proc->CloseStdin();
      job.done(std::move(s));
    }
  });
  if (started) return;
  std::deque<ManagedProcess::StdinJob> failed;
  {
    std::lock_guard<std::mutex> lock(p->mu);
    failed.swap(p->stdin_jobs);
    p->stdin_writer = false;
  }
  for (auto& job : failed) job.done(MakeError(ErrorKind::kLimitExceeded, "cannot start a thread for the process's input"));
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
  std::vector<std::shared_ptr<ManagedProcess>> victims;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_) return;
    shutting_down_ = true;
    for (auto& [id, p] : processes_) victims.push_back(p);
    for (auto& p : anonymous_) victims.push_back(p);
  }
  for (auto& p : victims) (void)p->proc->Kill(KillReason::kSessionClosed);
  victims.clear();
  {
    std::unique_lock<std::mutex> lock(mu_);
    pumps_cv_.wait(lock, [this] { return live_pumps_ == 0; });
  }
  {
    std::lock_guard<std::mutex> lock(timer_mu_);
    timer_stop_ = true;
  }
  timer_cv_.notify_all();
  if (timer_.joinable()) timer_.join();
  pool_.Shutdown();
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
    Json token = ctx.progress_token;
    auto p = Start(std::move(*sp), false, [this, shared_reply, token](ManagedProcess& mp) {
      mp.collect = true;
      if (!token.is_null()) {
        // PROTOCOL.md §5: exec honours a progressToken - output as it arrives, bytes so far.
        auto sent = std::make_shared<uint64_t>(0);
        mp.on_output = [this, token, sent](OutputStream, std::string_view data) {
          *sent += data.size();
          connection_.dispatcher().Notify("notifications/progress", {{"progressToken", token}, {"progress", *sent},
                                                                     {"message", ToValidUtf8(data.substr(0, 4096))}});
        };
      }
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
    auto r = std::make_shared<protocol::ReplyOnce>(std::move(reply));
    WhenNews(proc, after, wait_ms, [proc, after, max_bytes, r] {
      std::unique_lock<std::mutex> lock(proc->mu);
      Json chunks = Json::array();
      uint64_t next = after + 1;
      size_t bytes = 0;
      bool more = false;
      for (const auto& c : proc->retained) {
        if (c.seq <= after) continue;
        if (bytes > 0 && bytes + c.data.size() > max_bytes) {
          more = true;
          break;
        }
        chunks.push_back(ChunkJson(c));
        bytes += c.data.size();
        next = c.seq + 1;
      }
      // The end is reported only once the reader has everything that was kept.
      bool done = proc->closed && !more;
      Json out = {{"chunks", std::move(chunks)}, {"nextSeq", done ? std::max(next, proc->next_seq) : next},
                  {"exited", done}, {"closed", done}};
      // Output the reader never saw that has left the kept tail is reported, not silently skipped.
      uint64_t missed = proc->MissedAfter(after);
      out["dropped"] = missed != 0;
      if (missed) out["droppedThroughSeq"] = missed;
      if (done) out["result"] = ToJson(proc->result);
      lock.unlock();
      r->Ok(std::move(out));
    });
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
    auto r = std::make_shared<protocol::ReplyOnce>(std::move(reply));
    WriteStdin(*p, std::move(data), eof, [r](Status s) {
      if (!s) return r->Fail(ToRpcError(s.error()));
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
