// The sessions of one connection: the lazily created default session plus those made with
// session/create. Closing the registry (connection end) kills every session's processes.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "sandbox/session.h"
#include "server/server_context.h"

namespace cordon::server {

struct SessionEntry {
  std::string id;
  std::shared_ptr<SandboxSession> sandbox;
  std::string created_at;
};

class SessionRegistry {
 public:
  explicit SessionRegistry(ServerContext& context) : context_(context) {}
  ~SessionRegistry() { CloseAll(); }

  // The default session, created from the server's policy on first use.
  Result<std::shared_ptr<SessionEntry>> Default();
  // `id` empty means the default session.
  Result<std::shared_ptr<SessionEntry>> Get(const std::string& id);
  Result<std::shared_ptr<SessionEntry>> Create(const Policy& policy);
  Status Close(const std::string& id);
  std::vector<std::shared_ptr<SessionEntry>> List();
  void CloseAll();
  // The policy new sessions narrow (the configured one for the default workspace).
  Result<Policy> BasePolicy() const;
  // Replaces the default workspace (e.g. from the MCP client's roots) before first use; false
  // once the default session exists (it keeps its workspace).
  bool SetDefaultWorkspace(std::vector<std::string> roots);
  bool default_created();

 private:
  ServerContext& context_;
  mutable std::mutex mu_;
  std::mutex default_mu_;  // serialises lazy creation of the default session
  std::map<std::string, std::shared_ptr<SessionEntry>> sessions_;
  std::string default_id_;
  std::vector<std::string> default_roots_;
  int next_id_ = 1;
};

}  // namespace cordon::server
