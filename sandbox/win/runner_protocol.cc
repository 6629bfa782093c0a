#include "sandbox/win/runner_protocol.h"

#include "sandbox/base64.h"
#include "sandbox/win/pipes.h"

namespace cordon::win {

namespace {

template <class T>
T Get(const nlohmann::json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return it->get<T>();  // throws type_error on a wrong type; caught by the callers
}

// Reads exactly `len` bytes. Returns false on a clean EOF before the first byte.
Result<bool> ReadExact(HANDLE pipe, char* buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    auto n = ReadSome(pipe, buf + got, len - got);
    if (!n) return n.error();
    if (*n == 0) {
      if (got == 0) return false;
      return MakeError(ErrorKind::kInternal, "runner pipe: truncated frame");
    }
    got += *n;
  }
  return true;
}

}  // namespace

nlohmann::json ToJson(const RunnerSpawn& s) {
  return {{"type", "spawn"},          {"v", s.version},
          {"argv", s.argv},           {"cwd", s.cwd},
          {"env", s.env},             {"tty", s.tty},
          {"cols", s.cols},           {"rows", s.rows},
          {"stdin", s.stdin_pipe},    {"timeout_ms", s.timeout_ms},
          {"capability_sid", s.capability_sid},
          {"memory_bytes", s.memory_bytes},
          {"max_processes", s.max_processes},
          {"cpu_seconds", s.cpu_seconds},
          {"profile_env", s.profile_env},
          {"private_desktop", s.private_desktop}};
}

Result<RunnerSpawn> RunnerSpawnFromJson(const nlohmann::json& j) {
  RunnerSpawn s;
  try {
    if (Get<std::string>(j, "type", "") != "spawn")
      return MakeError(ErrorKind::kInvalidArgument, "runner: expected a spawn request");
    s.version = Get<int>(j, "v", 0);
    if (s.version != kRunnerProtocolVersion)
      return MakeError(ErrorKind::kInvalidArgument, "runner: protocol version " + std::to_string(s.version) +
                                                        " (this runner speaks " +
                                                        std::to_string(kRunnerProtocolVersion) + ")");
    s.argv = Get<std::vector<std::string>>(j, "argv", {});
    s.cwd = Get<std::string>(j, "cwd", "");
    s.env = Get<std::vector<std::string>>(j, "env", {});
    s.tty = Get<bool>(j, "tty", false);
    s.cols = Get<uint16_t>(j, "cols", 80);
    s.rows = Get<uint16_t>(j, "rows", 24);
    s.stdin_pipe = Get<bool>(j, "stdin", false);
    s.timeout_ms = Get<uint32_t>(j, "timeout_ms", 0);
    s.capability_sid = Get<std::string>(j, "capability_sid", "");
    s.memory_bytes = Get<uint64_t>(j, "memory_bytes", 0);
    s.max_processes = Get<uint32_t>(j, "max_processes", 0);
    s.cpu_seconds = Get<uint32_t>(j, "cpu_seconds", 0);
    s.profile_env = Get<bool>(j, "profile_env", false);
    s.private_desktop = Get<bool>(j, "private_desktop", false);
  } catch (const nlohmann::json::exception& e) {
    return MakeError(ErrorKind::kInvalidArgument, std::string("runner: bad spawn request: ") + e.what());
  }
  if (s.argv.empty()) return MakeError(ErrorKind::kInvalidArgument, "runner: empty argv");
  return s;
}

nlohmann::json OutputFrame(const OutputChunk& chunk) {
  if (chunk.eof) return {{"type", "eof"}};
  return {{"type", "output"}, {"stream", OutputStreamName(chunk.stream)}, {"data", Base64Encode(chunk.data)}};
}

Result<OutputChunk> OutputFromFrame(const nlohmann::json& j) {
  OutputChunk c;
  std::string stream = j.contains("stream") && j["stream"].is_string() ? j["stream"].get<std::string>() : "";
  if (stream == "stdout") {
    c.stream = OutputStream::kStdout;
  } else if (stream == "stderr") {
    c.stream = OutputStream::kStderr;
  } else if (stream == "pty") {
    c.stream = OutputStream::kPty;
  } else {
    return MakeError(ErrorKind::kInternal, "runner: output frame with stream '" + stream + "'");
  }
  auto data = j.find("data");
  if (data == j.end() || !data->is_string()) return MakeError(ErrorKind::kInternal, "runner: output without data");
  auto bytes = Base64Decode(data->get<std::string>());
  if (!bytes) return MakeError(ErrorKind::kInternal, "runner: output data is not base64");
  c.data = std::move(*bytes);
  return c;
}

nlohmann::json ExitFrame(const ProcessResult& r) { return {{"type", "exit"}, {"result", ToJson(r)}}; }

ProcessResult ResultFromFrame(const nlohmann::json& j) {
  ProcessResult r;
  const nlohmann::json empty = nlohmann::json::object();
  const nlohmann::json& res = j.contains("result") && j["result"].is_object() ? j["result"] : empty;
  try {
    r.status = Get<std::string>(res, "status", "error");
    if (res.contains("exitCode") && res["exitCode"].is_number()) r.exit_code = res["exitCode"].get<int>();
    if (res.contains("signal") && res["signal"].is_number()) r.signal = res["signal"].get<int>();
    r.wall_ms = Get<uint64_t>(res, "wallMs", 0);
    r.cpu_ms = Get<uint64_t>(res, "cpuMs", 0);
    r.max_rss_kb = Get<uint64_t>(res, "maxRssKb", 0);
    r.output_truncated = Get<bool>(res, "outputTruncated", false);
    r.detail = Get<std::string>(res, "detail", "");
  } catch (const nlohmann::json::exception& e) {
    r.status = "error";
    r.detail = std::string("runner: bad exit frame: ") + e.what();
  }
  return r;
}

nlohmann::json ErrorFrame(const Error& error) {
  return {{"type", "error"}, {"kind", ErrorKindName(error.kind)}, {"message", error.detail}};
}

Error ErrorFromFrame(const nlohmann::json& j) {
  static const ErrorKind kKinds[] = {ErrorKind::kInvalidArgument, ErrorKind::kPolicyDenied, ErrorKind::kNotFound,
                                     ErrorKind::kConflict, ErrorKind::kLimitExceeded, ErrorKind::kUnsupported,
                                     ErrorKind::kSandboxFailed, ErrorKind::kCancelled, ErrorKind::kInternal};
  std::string kind = j.contains("kind") && j["kind"].is_string() ? j["kind"].get<std::string>() : "";
  std::string message = j.contains("message") && j["message"].is_string() ? j["message"].get<std::string>() : "";
  for (ErrorKind k : kKinds) {
    if (kind == ErrorKindName(k)) return Error{k, message};
  }
  return Error{ErrorKind::kSandboxFailed, "runner: " + message};
}

const char* KillReasonName(KillReason reason) {
  switch (reason) {
    case KillReason::kTerminate: return "terminate";
    case KillReason::kTimeout: return "timeout";
    case KillReason::kOutputLimit: return "output_limit";
    case KillReason::kCancelled: return "cancelled";
    case KillReason::kSessionClosed: return "session_closed";
  }
  return "terminate";
}

std::optional<KillReason> KillReasonFromName(const std::string& name) {
  for (KillReason r : {KillReason::kTerminate, KillReason::kTimeout, KillReason::kOutputLimit,
                       KillReason::kCancelled, KillReason::kSessionClosed}) {
    if (name == KillReasonName(r)) return r;
  }
  return std::nullopt;
}

Status WriteFrame(HANDLE pipe, const nlohmann::json& message) {
  std::string body = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (body.size() > kMaxRunnerFrame) return MakeError(ErrorKind::kLimitExceeded, "runner frame too large");
  uint32_t n = static_cast<uint32_t>(body.size());
  std::string frame(4, '\0');
  for (int i = 0; i < 4; ++i) frame[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  frame += body;
  return WriteAll(pipe, frame);
}

Result<std::optional<nlohmann::json>> ReadFrame(HANDLE pipe) {
  unsigned char len_bytes[4];
  auto got = ReadExact(pipe, reinterpret_cast<char*>(len_bytes), 4);
  if (!got) return got.error();
  if (!*got) return std::optional<nlohmann::json>();
  uint32_t n = len_bytes[0] | (len_bytes[1] << 8) | (len_bytes[2] << 16) | (static_cast<uint32_t>(len_bytes[3]) << 24);
  if (n == 0 || n > kMaxRunnerFrame)
    return MakeError(ErrorKind::kInternal, "runner pipe: frame length " + std::to_string(n) + " out of range");
  std::string body(n, '\0');
  auto body_got = ReadExact(pipe, body.data(), n);
  if (!body_got) return body_got.error();
  if (!*body_got) return MakeError(ErrorKind::kInternal, "runner pipe: truncated frame");
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("type") || !j["type"].is_string())
    return MakeError(ErrorKind::kInternal, "runner pipe: frame is not a typed JSON object");
  return std::optional<nlohmann::json>(std::move(j));
}

}  // namespace cordon::win
