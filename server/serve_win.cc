// `cordon serve` on Windows: stdio only (`--listen unix:` is a POSIX transport). Console
// control events (Ctrl+C, Ctrl+Break, console close, logoff, shutdown) take the place of
// SIGINT/SIGTERM/SIGHUP: they stop the connection, which kills its sessions' processes. Should
// the process die first anyway, its Job handles close and kill-on-close ends every command.
#include <windows.h>

#include <spdlog/spdlog.h>

#include "sandbox/win/scoped_handle.h"
#include "server/connection.h"
#include "server/connection_set.h"
#include "server/serve.h"

namespace cordon::server {
namespace {

HANDLE g_served = nullptr;  // set once the connection has killed its sessions

BOOL WINAPI OnConsoleControl(DWORD type) {
  spdlog::info("console control event {}, shutting down", type);
  StopAllConnections();
  if (type == CTRL_CLOSE_EVENT || type == CTRL_LOGOFF_EVENT || type == CTRL_SHUTDOWN_EVENT) {
    // The system ends the process when this handler returns (or after ~5 s): give the
    // connection the time to end its process trees first.
    if (g_served) ::WaitForSingleObject(g_served, 4000);
  }
  return TRUE;
}

}  // namespace

void PrepareProcessSignals() {}

int Serve(ServerContext& context, const std::string& listen) {
  if (!listen.empty()) {
    spdlog::error("--listen is not supported on Windows; cordon serves on stdio there");
    return 2;
  }
  win::ScopedHandle served(::CreateEventW(nullptr, TRUE, FALSE, nullptr));
  g_served = served.get();
  ::SetConsoleCtrlHandler(OnConsoleControl, TRUE);
  // The protocol channel must never reach a command, even where the spawn's handle list is
  // not honoured (Wine ignores it): no standard handle of the server is inheritable.
  for (DWORD which : {STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE}) {
    HANDLE h = ::GetStdHandle(which);
    if (h && h != INVALID_HANDLE_VALUE) ::SetHandleInformation(h, HANDLE_FLAG_INHERIT, 0);
  }
  int code = 0;
  {
    Connection c(context, 0, 1);  // the C runtime's stdin and stdout
    TrackConnection(&c);
    code = c.Run();
    UntrackConnection(&c);
  }
  ::SetEvent(g_served);
  ::SetConsoleCtrlHandler(OnConsoleControl, FALSE);
  return code;
}

}  // namespace cordon::server
