#include "sandbox/win/elevated_process.h"

#include <algorithm>

#include "sandbox/base64.h"
#include "sandbox/win/win_util.h"

namespace cordon::win {

RunnerProcess::RunnerProcess(RunnerConnection connection) : conn_(std::move(connection)) {}

Result<std::unique_ptr<RunnerProcess>> RunnerProcess::Start(RunnerConnection connection, const RunnerSpawn& spawn,
                                                            std::shared_ptr<const std::atomic<bool>> session_closed) {
  std::unique_ptr<RunnerProcess> p(new RunnerProcess(std::move(connection)));
  p->session_closed_ = std::move(session_closed);
  if (auto st = p->Send(ToJson(spawn)); !st) return st.error();
  // The runner answers at once (it only builds a token, a job and the process); if it dies
  // instead, the pipe breaks and the read ends.
  auto answer = ReadFrame(p->conn_.pipes.from_runner.get());
  if (!answer) return answer.error();
  if (!answer->has_value()) return MakeError(ErrorKind::kSandboxFailed, "cordon-runner ended before answering");
  const nlohmann::json& a = **answer;
  std::string type = a["type"].get<std::string>();
  if (type == "error") return ErrorFromFrame(a);
  bool ready = type == "ready" && a.contains("v") && a["v"].is_number_integer() &&
               a["v"].get<int>() == kRunnerProtocolVersion && a.contains("pid") && a["pid"].is_number_integer();
  if (!ready) return MakeError(ErrorKind::kSandboxFailed, "cordon-runner: unexpected answer to spawn: " + a.dump());
  p->pid_ = a["pid"].get<int>();
  p->reader_ = std::thread([raw = p.get()] { raw->ReadLoop(); });
  return p;
}

RunnerProcess::~RunnerProcess() {
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    conn_.pipes.to_runner.reset();  // the runner's stop signal
  }
  ::TerminateProcess(conn_.runner.process.get(), 1);
  ::CancelIoEx(conn_.pipes.from_runner.get(), nullptr);
  if (reader_.joinable()) reader_.join();
}

Status RunnerProcess::Send(const nlohmann::json& frame) {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (!conn_.pipes.to_runner) return MakeError(ErrorKind::kInvalidArgument, "the process has exited");
  return WriteFrame(conn_.pipes.to_runner.get(), frame);
}

void RunnerProcess::Finish(ProcessResult result) {
  output_.End(OutputStream::kStdout);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!result_) result_ = std::move(result);
  }
  cv_.notify_all();
  // The runner waits for this close to exit (and takes its job down with it).
  std::lock_guard<std::mutex> lock(write_mu_);
  conn_.pipes.to_runner.reset();
}

void RunnerProcess::ReadLoop() {
  for (;;) {
    auto frame = ReadFrame(conn_.pipes.from_runner.get());
    if (!frame || !frame->has_value()) break;
    const nlohmann::json& f = **frame;
    std::string type = f["type"].get<std::string>();
    if (type == "output") {
      auto chunk = OutputFromFrame(f);
      if (!chunk) break;
      output_.Push(std::move(chunk).value());
    } else if (type == "eof") {
      output_.End(OutputStream::kStdout);
    } else if (type == "exit") {
      Finish(ResultFromFrame(f));
      return;
    } else if (type == "error") {
      ProcessResult r;
      r.status = "error";
      r.detail = ErrorFromFrame(f).detail;
      Finish(std::move(r));
      return;
    }
  }
  // The runner went away without an exit: killed with the session Job, or crashed.
  ProcessResult r;
  int reason = kill_reason_.load();
  DWORD code = 0;
  ::WaitForSingleObject(conn_.runner.process.get(), 5000);
  ::GetExitCodeProcess(conn_.runner.process.get(), &code);
  if (reason == static_cast<int>(KillReason::kTimeout)) {
    r.status = "timeout";
  } else if (reason >= 0 || (session_closed_ && session_closed_->load())) {
    r.status = "killed";
  } else {
    r.status = "error";
    r.detail = "cordon-runner ended without reporting an exit (code " + std::to_string(code) + ")";
  }
  Finish(std::move(r));
}

Result<OutputChunk> RunnerProcess::ReadOutput(size_t max_bytes) { return output_.Take(max_bytes); }

ProcessResult RunnerProcess::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return result_.has_value(); });
  return *result_;
}

bool RunnerProcess::exited() const {
  std::lock_guard<std::mutex> lock(mu_);
  return result_.has_value();
}

Status RunnerProcess::WriteStdin(std::string_view data) {
  // Frames stay well under kMaxRunnerFrame after base64 (4/3) and JSON overhead.
  constexpr size_t kPiece = 1u << 20;
  for (size_t off = 0; off < data.size() || (off == 0 && data.empty()); off += kPiece) {
    std::string_view piece = data.substr(off, std::min(kPiece, data.size() - off));
    if (auto st = Send({{"type", "stdin"}, {"data", Base64Encode(piece)}}); !st) return st;
    if (data.empty()) break;
  }
  return OkStatus();
}

Status RunnerProcess::CloseStdin() { return Send({{"type", "stdin_close"}}); }

Status RunnerProcess::Resize(uint16_t cols, uint16_t rows) {
  return Send({{"type", "resize"}, {"cols", cols}, {"rows", rows}});
}

Status RunnerProcess::Signal(int /*signal*/) {
  // As in unelevated mode: no POSIX signals on Windows, every signal ends the command's tree.
  return Kill(KillReason::kTerminate);
}

Status RunnerProcess::Kill(KillReason reason) {
  int expected = -1;
  kill_reason_.compare_exchange_strong(expected, static_cast<int>(reason));
  if (exited()) return OkStatus();
  if (Send({{"type", "terminate"}, {"reason", KillReasonName(reason)}}).ok()) return OkStatus();
  // The runner cannot be told: end it, and its job's kill-on-close ends the command.
  if (!::TerminateProcess(conn_.runner.process.get(), 1) && !exited())
    return WinError(ErrorKind::kInternal, "TerminateProcess(runner)");
  return OkStatus();
}

}  // namespace cordon::win
