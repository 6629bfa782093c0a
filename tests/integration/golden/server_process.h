// A real `cordon serve` child for transcript tests: framed bytes go to its stdin, its stdout
// is decoded by a reader thread into JSON messages the test waits for (generous limits, never
// sleeps as synchronisation), and /proc is scanned for the processes it started.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "protocol/framing.h"
#include "protocol/jsonrpc.h"

namespace cordon::golden {

using protocol::Json;

class ServerProcess {
 public:
  // Starts `binary serve --workspace workspace args...` with XDG_CONFIG_HOME=config_home (so a
  // user's config.toml never leaks in); stderr goes to stderr_path.
  ServerProcess(const std::string& binary, const std::string& workspace, const std::string& config_home,
                const std::vector<std::string>& args, const std::string& stderr_path,
                protocol::Framing framing);
  ~ServerProcess();

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Writes raw bytes (false once the server stopped reading).
  bool Write(std::string_view bytes);
  bool Send(std::string_view body) { return Write(protocol::EncodeFrame(framing_, body)); }
  void CloseStdin();
  void Signal(int sig);

  // Waits until n messages have arrived in total or the stream ended; returns them all.
  std::vector<Json> WaitForMessages(size_t n, std::chrono::seconds limit);
  // Waits for the server to exit; returns its wait status, or nullopt on timeout.
  std::optional<int> WaitExit(std::chrono::seconds limit);
  // Reads what is left after exit (everything up to EOF on stdout).
  std::vector<Json> DrainAfterExit();

 private:
  void ReadLoop();

  protocol::Framing framing_;
  pid_t pid_ = -1;
  int in_fd_ = -1;
  int out_fd_ = -1;
  std::optional<int> status_;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Json> messages_;
  bool eof_ = false;
};

// Processes below `root` (by parent links in /proc) whose command line, with arguments joined
// by spaces, equals `cmdline`.
std::vector<pid_t> FindDescendants(pid_t root, const std::string& cmdline);
// True when pid no longer runs `cmdline` (gone, a zombie, or reused for something else).
bool ProcessGone(pid_t pid, const std::string& cmdline);

}  // namespace cordon::golden
