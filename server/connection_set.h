// The live connections of this server process, so that a termination request (a signal on
// POSIX, a console control event on Windows) can stop every one of them; each stopped
// connection kills its sessions' processes before its Run() returns.
#pragma once

namespace cordon::server {

class Connection;

// A connection added after StopAllConnections() is stopped at once.
void TrackConnection(Connection* connection);
void UntrackConnection(Connection* connection);
// Thread-safe; marks the server as stopping.
void StopAllConnections();
bool ServerStopping();

}  // namespace cordon::server
