#include "sandbox/linux/worker_ops.h"

namespace cordon::linux_sandbox {

nlohmann::json RunWorkerOperation(const std::string& op, const nlohmann::json&, const Policy&,
                                  const std::atomic<bool>*) {
  return {{"error", {{"kind", "unsupported"}, {"detail", "operation " + op + " is not available"}}}};
}

}  // namespace cordon::linux_sandbox
