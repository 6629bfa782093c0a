// Sessions in-process through cordon::MakeSandboxBackend(): create->ready p50/p99 without and
// with the worker pool, one /bin/true spawned and reaped inside a ready session, and the
// worker's resident memory - each beside the same-run posix_spawn + waitpid baseline.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "sandbox/backend.h"
#include "sandbox/linux/linux_session.h"
#include "server/config.h"

namespace cordon::bench {
namespace {

std::vector<int64_t> CreateTimes(SandboxBackend& backend, const Policy& policy, int n, bool pooled) {
  std::vector<int64_t> out;
  for (int i = 0; i < n; ++i) {
    // Give the pool time to refill, as it would between real session/create calls.
    if (pooled) std::this_thread::sleep_for(std::chrono::milliseconds(400));
    int64_t t0 = NowNs();
    auto s = backend.CreateSession(policy);
    int64_t t1 = NowNs();
    if (!s) {
      std::printf("session failed: %s\n", s.error().detail.c_str());
      return out;
    }
    out.push_back(t1 - t0);
    (*s)->Close();
  }
  return out;
}

int64_t RunTrue(SandboxSession& session, const SpawnRequest& req) {
  int64_t t0 = NowNs();
  auto p = session.Spawn(req);
  if (!p) return -1;
  for (;;) {
    auto c = (*p)->ReadOutput(4096);
    if (!c || c->eof) break;
  }
  (*p)->Wait();
  return NowNs() - t0;
}

}  // namespace
}  // namespace cordon::bench

int main(int argc, char** argv) {
  using namespace cordon;
  using namespace cordon::bench;
  int n = argc > 1 ? std::atoi(argv[1]) : 300;
  ::setenv("CORDON_WORKER", BuildPath("server/cordon-worker").c_str(), 0);
  char tmpl[] = "/tmp/cordon-session-bench-XXXXXX";
  std::string ws = ::mkdtemp(tmpl);
  const char* home = std::getenv("HOME");
  auto policy = server::BuildPolicy(server::Config{}, {ws}, home ? home : "/root");
  if (!policy) {
    std::printf("policy: %s\n", policy.error().detail.c_str());
    return 1;
  }
  auto base = SpawnBaseline(n);
  double base_p50 = Percentile(base, 0.5), base_p99 = Percentile(base, 0.99);
  Row("baseline posix_spawn+waitpid /bin/true p50", base_p50, "us");
  Row("baseline posix_spawn+waitpid /bin/true p99", base_p99, "us");

  auto backend = MakeSandboxBackend();
  auto cold = CreateTimes(*backend, *policy, 20, false);
  Row("session create->ready, no pool p50", Percentile(cold, 0.5) / 1e3, "ms");
  Row("session create->ready, no pool p99", Percentile(cold, 0.99) / 1e3, "ms");
  backend->Prewarm(*policy, 1);
  auto warm = CreateTimes(*backend, *policy, 20, true);
  Row("session create->ready, pool p50", Percentile(warm, 0.5) / 1e3, "ms", 0, "(target <= 5 ms)");
  Row("session create->ready, pool p99", Percentile(warm, 0.99) / 1e3, "ms");
  backend->Prewarm(*policy, 0);

  auto session = backend->CreateSession(*policy);
  if (!session) {
    std::printf("session failed: %s\n", session.error().detail.c_str());
    return 1;
  }
  SpawnRequest req;
  req.argv = {"/bin/true"};
  req.cwd = ws;
  req.env = BuildEnvironment(policy->env(), environ, {});
  for (int i = 0; i < 20; ++i) RunTrue(**session, req);
  std::vector<int64_t> inside;
  for (int i = 0; i < n; ++i) inside.push_back(RunTrue(**session, req));
  Row("/bin/true inside a ready session p50", Percentile(inside, 0.5), "us", base_p50, "(target <= 1.5x)");
  Row("/bin/true inside a ready session p99", Percentile(inside, 0.99), "us", base_p99);
  if (auto* linux_session = dynamic_cast<linux_sandbox::LinuxSession*>(session->get()))
    Row("worker VmRSS", static_cast<double>(RssKb(linux_session->worker_pid())) / 1024.0, "MiB", 0,
        "(target <= 4 MiB)");
  (*session)->Close();
  return 0;
}
