// cordon-worker: the process that becomes a session's sandbox. Started only by the server,
// already inside fresh namespaces, with the control socket on fd 3.
#include "sandbox/linux/worker_loop.h"

int main() { return cordon::linux_sandbox::RunWorker(3); }
