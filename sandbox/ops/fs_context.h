// What every file operation needs besides its request: the session's policy (the scopes it may
// read and write), an optional cancellation flag, and size caps. Built by the worker (or a test)
// from the session's Policy; the ops are plain functions of (FsContext, params).
#pragma once

#include <atomic>
#include <cstdint>

#include "sandbox/policy.h"

namespace cordon::ops {

struct FsLimits {
  uint64_t max_read_bytes = 16ull << 20;         // content returned by fs/readFile (pre-base64)
  uint64_t max_hash_bytes = 1ull << 30;          // fs/getMetadata hashes files up to this size
  uint32_t max_dir_entries = 20000;              // fs/readDirectory, over all depths
  uint64_t max_patch_file_bytes = 256ull << 20;  // a file patched is held in memory
};

struct FsContext {
  explicit FsContext(const Policy& p, const std::atomic<bool>* cancel_flag = nullptr)
      : policy(&p), cancel(cancel_flag) {}

  bool Cancelled() const { return cancel && cancel->load(std::memory_order_relaxed); }

  const Policy* policy;  // not owned; outlives the operation
  const std::atomic<bool>* cancel = nullptr;
  FsLimits limits;
};

}  // namespace cordon::ops
