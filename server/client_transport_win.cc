// `cordon client` drives servers over POSIX pipes and unix sockets; on Windows it says so.
#include "server/client_transport.h"

namespace cordon::server {

Result<std::unique_ptr<ClientTransport>> StartServerProcess(const std::vector<std::string>&) {
  return MakeError(ErrorKind::kUnsupported, "cordon client is not available on Windows yet");
}
Result<std::unique_ptr<ClientTransport>> StartServerCommand(const std::string&) {
  return MakeError(ErrorKind::kUnsupported, "cordon client is not available on Windows yet");
}
Result<std::unique_ptr<ClientTransport>> ConnectServer(const std::string&) {
  return MakeError(ErrorKind::kUnsupported, "cordon client is not available on Windows yet");
}
std::string SelfExecutablePath() { return "cordon.exe"; }

}  // namespace cordon::server
