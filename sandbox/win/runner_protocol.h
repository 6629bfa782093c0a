// The wire between the server and cordon-runner.exe (elevated mode): two named pipes, one per
// direction, carrying frames of a 4-byte little-endian length followed by one JSON object with
// a "type". Version 1, small on purpose; a frame is at most kMaxRunnerFrame bytes, and output
// and stdin bytes travel base64-encoded.
//   server -> runner: spawn (first and once), stdin, stdin_close, resize, terminate
//   runner -> server: ready {v, pid} or error {kind, message} (answering spawn), then
//                     output {stream, data}..., eof, exit {result}
// Closing the server->runner pipe means "stop": the runner ends the command's job and exits.
#pragma once

#include <windows.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sandbox/session.h"
#include "sandbox/status.h"

namespace cordon::win {

inline constexpr int kRunnerProtocolVersion = 1;
inline constexpr size_t kMaxRunnerFrame = 4u << 20;

// What the runner needs to start one command. Paths are Windows paths (already checked by the
// server's path guard); `capability_sid` empty means no restricted token (danger-full-access).
struct RunnerSpawn {
  int version = kRunnerProtocolVersion;
  std::vector<std::string> argv;
  std::string cwd;
  std::vector<std::string> env;
  bool tty = false;
  uint16_t cols = 80;
  uint16_t rows = 24;
  bool stdin_pipe = false;
  uint32_t timeout_ms = 0;
  std::string capability_sid;
  uint64_t memory_bytes = 0;    // job limits of the command's job; 0 = none
  uint32_t max_processes = 0;
  uint32_t cpu_seconds = 0;
  bool profile_env = false;     // overlay the runner's own profile variables (USERPROFILE, TEMP...)
  bool private_desktop = false;
};
nlohmann::json ToJson(const RunnerSpawn& spawn);
Result<RunnerSpawn> RunnerSpawnFromJson(const nlohmann::json& j);

// Frame builders (both directions) and their readers.
nlohmann::json OutputFrame(const OutputChunk& chunk);
nlohmann::json ExitFrame(const ProcessResult& result);
nlohmann::json ErrorFrame(const Error& error);
Result<OutputChunk> OutputFromFrame(const nlohmann::json& j);
ProcessResult ResultFromFrame(const nlohmann::json& j);
Error ErrorFromFrame(const nlohmann::json& j);

const char* KillReasonName(KillReason reason);
std::optional<KillReason> KillReasonFromName(const std::string& name);

// Serialises and writes one frame (the caller serialises writers of one pipe).
Status WriteFrame(HANDLE pipe, const nlohmann::json& message);
// Reads one frame. nullopt: the writer closed the pipe at a frame boundary. A truncated frame,
// an oversized length, invalid JSON or an object without "type" is kInternal.
Result<std::optional<nlohmann::json>> ReadFrame(HANDLE pipe);

}  // namespace cordon::win
