// The byte pipe under `cordon client`: a server it starts (stdin/stdout of a child) or one it
// connects to (`unix:PATH`). Platform code lives in client_transport_posix.cc (and a stub for
// Windows); client_command.cc only sees this interface.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sandbox/status.h"

namespace cordon::server {

class ClientTransport {
 public:
  virtual ~ClientTransport() = default;
  // Blocks for bytes from the server: their count, 0 at EOF, -1 on error.
  virtual long Read(char* buf, size_t size) = 0;
  // Writes every byte; false when the server is gone.
  virtual bool Write(std::string_view data) = 0;
  // Ends the client's side of the stream (the server sees EOF).
  virtual void CloseWrite() = 0;
  // Waits up to grace_ms for a started server to exit, then kills it; returns its exit code
  // (128+signal when killed by one). A connection just closes and returns 0.
  virtual int Finish(int grace_ms) = 0;
};

// Starts `argv` with pipes on its stdin/stdout (stderr is shared with ours).
Result<std::unique_ptr<ClientTransport>> StartServerProcess(const std::vector<std::string>& argv);
// Starts `command` through the system shell.
Result<std::unique_ptr<ClientTransport>> StartServerCommand(const std::string& command);
// Connects to `address` ("unix:PATH").
Result<std::unique_ptr<ClientTransport>> ConnectServer(const std::string& address);
// The path of the running cordon binary (to start its own `serve`).
std::string SelfExecutablePath();

}  // namespace cordon::server
