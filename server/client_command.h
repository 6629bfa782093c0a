// `cordon client`: a scripted JSON-RPC client in the cordon binary, the way to drive cordon from
// shell, CI and tests. It reads requests as JSON lines, fills in "jsonrpc" and ids, talks to a
// server it starts or connects to, and prints every reply and notification as a JSON line.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace cordon::server {

struct ClientOptions {
  std::string input = "-";         // file of JSON lines; "-" is stdin
  std::string server;              // shell command starting a server; empty: our own serve
  std::string connect;             // unix:PATH of a running server
  std::string workspace;           // --workspace for our own serve
  std::vector<std::string> until;  // notification methods to wait for before exiting
  bool no_initialize = false;
  bool keep_going = false;
  int timeout_s = 300;             // per reply / awaited notification
};

class ClientCommand {
 public:
  // Adds the `client` subcommand to `app`.
  explicit ClientCommand(CLI::App& app);
  // After parsing: the exit code when `client` was chosen, else nullopt.
  std::optional<int> Run() const;

 private:
  CLI::App* sub_;
  ClientOptions options_;
};

// Exit codes: 0 all replies were results; 1 a JSON-RPC error came back (without --keep-going);
// 2 bad input or the server could not be started/reached; 3 a reply or --until timed out or
// the server went away first.
int RunClient(const ClientOptions& options);

}  // namespace cordon::server
