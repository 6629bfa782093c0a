#include "server/connection_set.h"

#include <atomic>
#include <list>
#include <mutex>

#include "server/connection.h"

namespace cordon::server {
namespace {

std::mutex g_mu;
std::list<Connection*> g_connections;
std::atomic<bool> g_stopping{false};

}  // namespace

void TrackConnection(Connection* c) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_connections.push_back(c);
  if (g_stopping.load()) c->Stop();
}

void UntrackConnection(Connection* c) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_connections.remove(c);
}

void StopAllConnections() {
  std::lock_guard<std::mutex> lock(g_mu);
  g_stopping.store(true);
  for (Connection* c : g_connections) c->Stop();
}

bool ServerStopping() { return g_stopping.load(); }

}  // namespace cordon::server
