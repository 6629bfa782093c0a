// Broker <-> worker messages: one JSON object per SOCK_SEQPACKET datagram, with file
// descriptors attached by SCM_RIGHTS (pipes, a pty master, a pidfd). Datagram boundaries
// make framing free; received fds are owned by UniqueFd and close-on-exec.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "sandbox/status.h"
#include "sandbox/unique_fd.h"

namespace cordon::linux_sandbox {

inline constexpr size_t kMaxIpcMessage = 4u << 20;
inline constexpr size_t kMaxIpcFds = 8;

struct IpcMessage {
  nlohmann::json body;
  std::vector<UniqueFd> fds;
};

Status SendIpc(int socket, const nlohmann::json& body, const std::vector<int>& fds = {});
// Blocks for the next message. A closed peer is kSandboxFailed "worker connection closed".
Result<IpcMessage> ReceiveIpc(int socket);

// A connected SOCK_SEQPACKET pair, both ends close-on-exec.
Status MakeSocketPair(UniqueFd* a, UniqueFd* b);

}  // namespace cordon::linux_sandbox
