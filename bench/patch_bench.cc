// Files-and-patches speed against same-run baselines:
//   patch/apply of a generated 1,000-file unified diff vs `git apply` of that diff;
//   fs/readFile of a 64 MiB text file vs `cat file > /dev/null`;
// each both in process (the ops library) and through the sandbox (SandboxSession::RunOperation:
// a forked, confined worker child and the JSON result pipe), the path the server uses.
// Usage: patch_bench [scratch-dir]   (default: $TMPDIR or /tmp). Prints figures and ratios.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "sandbox/backend.h"
#include "sandbox/ops/file_ops.h"
#include "sandbox/policy.h"

namespace fs = std::filesystem;
using cordon::ops::FsContext;

namespace {

constexpr int kFiles = 1000;
constexpr int kRepeats = 5;

double Now() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int Shell(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

void Put(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << s;
}

std::string Get(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// 1,000 files of ~200 lines in 20 directories; B edits a few places in each.
void MakeTrees(const fs::path& a, const fs::path& b) {
  std::mt19937 rng(1);
  auto line = [&] { return "value_" + std::to_string(rng() % 100000) + " = compute(" + std::to_string(rng() % 1000) + ");\n"; };
  for (int f = 0; f < kFiles; ++f) {
    std::vector<std::string> lines;
    for (int i = 0; i < 200; ++i) lines.push_back(line());
    std::string rel = "dir" + std::to_string(f % 20) + "/file" + std::to_string(f) + ".c";
    std::string text;
    for (auto& l : lines) text += l;
    Put(a / rel, text);
    for (int e = 0; e < 3; ++e) lines[rng() % lines.size()] = line();
    lines.insert(lines.begin() + rng() % lines.size(), line());
    text.clear();
    for (auto& l : lines) text += l;
    Put(b / rel, text);
  }
}

std::string GitDiff(const fs::path& base, const fs::path& a, const fs::path& b) {
  fs::path repo = base / "repo";
  fs::copy(a, repo, fs::copy_options::recursive);
  std::string git = "git -C '" + repo.string() + "' -c user.name=b -c user.email=b@b ";
  Shell(git + "init -q && " + git + "add -A && " + git + "commit -qm a");
  for (auto& e : fs::directory_iterator(repo))
    if (e.path().filename() != ".git") fs::remove_all(e.path());
  fs::copy(b, repo, fs::copy_options::recursive);
  Shell(git + "add -A && " + git + "diff --cached > '" + (base / "bench.diff").string() + "'");
  fs::remove_all(repo);
  return Get(base / "bench.diff");
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// A sandbox session over `root` (the server's path for file methods), or null with a reason.
std::shared_ptr<cordon::SandboxSession> Session(cordon::SandboxBackend& backend, const fs::path& root) {
  auto policy = cordon::PolicyBuilder().WorkspaceRoot(root.string()).Build();
  if (!policy) return nullptr;
  auto s = backend.CreateSession(*policy);
  if (!s) {
    std::fprintf(stderr, "no sandbox session (%s): sandboxed figures skipped\n", s.error().detail.c_str());
    return nullptr;
  }
  return *s;
}

// Replaces the contents of `dir` (kept: a session's bind mount holds the directory itself).
void Refill(const fs::path& dir, const fs::path& from) {
  for (auto& e : fs::directory_iterator(dir)) fs::remove_all(e.path());
  fs::copy(from, dir, fs::copy_options::recursive);
}

}  // namespace

int main(int argc, char** argv) {
  std::string parent = argc > 1 ? argv[1] : (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
  std::string tmpl = parent + "/cordon-bench-XXXXXX";
  if (!::mkdtemp(tmpl.data())) {
    std::perror("mkdtemp");
    return 1;
  }
  const fs::path base(tmpl.c_str());
  ::setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
  ::setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
  ::setenv("GIT_CEILING_DIRECTORIES", base.c_str(), 1);

  MakeTrees(base / "A", base / "B");
  const std::string diff = GitDiff(base, base / "A", base / "B");
  Put(base / "bench.diff", diff);
  std::printf("patch: %d files, %zu-byte unified diff\n", kFiles, diff.size());

  // The worker binary sits next to `cordon` (build/server); benches live in build/bench.
  if (!std::getenv("CORDON_WORKER")) {
    fs::path exe = fs::read_symlink("/proc/self/exe");
    ::setenv("CORDON_WORKER", (exe.parent_path().parent_path() / "server" / "cordon-worker").c_str(), 1);
  }
  auto backend = cordon::MakeSandboxBackend();
  const fs::path sbox = base / "s";
  fs::create_directories(sbox);
  auto patch_session = Session(*backend, sbox);

  std::vector<double> git_ms, cordon_ms, sandboxed_ms;
  for (int r = 0; r < kRepeats; ++r) {
    const fs::path g = base / ("g" + std::to_string(r)), c = base / ("c" + std::to_string(r));
    fs::copy(base / "A", g, fs::copy_options::recursive);
    fs::copy(base / "A", c, fs::copy_options::recursive);
    double t0 = Now();
    int rc = Shell("cd '" + g.string() + "' && git apply '" + (base / "bench.diff").string() + "'");
    git_ms.push_back(Now() - t0);
    auto policy = cordon::PolicyBuilder().WorkspaceRoot(c.string()).Build();
    if (rc != 0 || !policy) {
      std::fprintf(stderr, "setup failed\n");
      return 1;
    }
    FsContext ctx(*policy);
    cordon::ops::ApplyPatchParams params;
    params.patch = diff;
    t0 = Now();
    auto res = cordon::ops::ApplyPatch(ctx, params);
    cordon_ms.push_back(Now() - t0);
    if (!res.ok()) {
      std::fprintf(stderr, "patch/apply failed: %s\n", res.error().detail.c_str());
      return 1;
    }
    if (Get(g / "dir7/file7.c") != Get(c / "dir7/file7.c")) {
      std::fprintf(stderr, "results differ\n");
      return 1;
    }
    if (patch_session) {
      Refill(sbox, base / "A");
      t0 = Now();
      auto sres = patch_session->RunOperation("applyPatch", {{"patch", diff}}, nullptr);
      sandboxed_ms.push_back(Now() - t0);
      if (!sres.ok() || Get(g / "dir7/file7.c") != Get(sbox / "dir7/file7.c")) {
        std::fprintf(stderr, "sandboxed patch/apply failed: %s\n", sres.ok() ? "results differ" : sres.error().detail.c_str());
        return 1;
      }
    }
    fs::remove_all(g);
    fs::remove_all(c);
  }
  double gm = Median(git_ms), cm = Median(cordon_ms);
  std::printf("patch/apply 1,000 files: cordon %.1f ms, git apply %.1f ms, ratio %.2fx (median of %d)\n", cm, gm,
              cm / gm, kRepeats);
  if (!sandboxed_ms.empty()) {
    double sm = Median(sandboxed_ms);
    std::printf("patch/apply 1,000 files through the sandbox: %.1f ms, ratio %.2fx vs git apply, %.2fx vs in process\n",
                sm, sm / gm, sm / cm);
  }
  patch_session.reset();

  // 64 MiB of text lines.
  const fs::path big = base / "big.txt";
  {
    std::ofstream out(big, std::ios::binary);
    std::mt19937 rng(2);
    std::string chunk;
    while (chunk.size() < (1u << 20)) chunk += "the quick brown fox " + std::to_string(rng()) + " jumps over the lazy dog\n";
    chunk.resize(1u << 20);
    for (int i = 0; i < 64; ++i) out << chunk;
  }
  auto policy = cordon::PolicyBuilder().WorkspaceRoot(base.string()).Build();
  FsContext ctx(*policy);
  ctx.limits.max_read_bytes = 65ull << 20;
  std::vector<double> cat_ms, read_ms;
  Shell("cat '" + big.string() + "' > /dev/null");  // warm the page cache
  for (int r = 0; r < kRepeats; ++r) {
    double t0 = Now();
    Shell("cat '" + big.string() + "' > /dev/null");
    cat_ms.push_back(Now() - t0);
    cordon::ops::ReadFileParams p;
    p.path = big.string();
    t0 = Now();
    auto res = cordon::ops::ReadFile(ctx, p);
    read_ms.push_back(Now() - t0);
    if (!res.ok() || res->content.size() != (64u << 20)) {
      std::fprintf(stderr, "readFile failed\n");
      return 1;
    }
  }
  double catm = Median(cat_ms), rm = Median(read_ms);
  std::printf("fs/readFile 64 MiB (whole file, sha256, utf8 check): cordon %.1f ms, cat %.1f ms (incl. process start), ratio %.2fx\n",
              rm, catm, rm / catm);

  // Through the sandbox, with the worker's default 16 MiB content cap: a 64 MiB file returns its
  // first 16 MiB (truncated) with the whole file's sha256 and line count; a 16 MiB file whole.
  if (auto session = Session(*backend, base)) {
    const fs::path mid = base / "mid.txt";
    Shell("head -c 16000000 '" + big.string() + "' > '" + mid.string() + "'");
    const fs::path small = base / "small.txt";
    Put(small, std::string(4000, 'x') + "\n");
    struct Case {
      const char* label;
      fs::path path;
      bool vs_cat;
    };
    for (const Case& c : {Case{"64 MiB (16 MiB returned, truncated)", big, true}, Case{"16 MB whole", mid, true},
                          Case{"4 KB", small, false}}) {
      std::vector<double> sb_ms, in_ms, base_ms;
      Shell("cat '" + c.path.string() + "' > /dev/null");
      for (int r = 0; r < kRepeats; ++r) {
        double t0 = Now();
        Shell("cat '" + c.path.string() + "' > /dev/null");
        base_ms.push_back(Now() - t0);
        cordon::ops::ReadFileParams p;
        p.path = c.path.string();
        FsContext dflt(*policy);
        t0 = Now();
        auto local = cordon::ops::ReadFile(dflt, p);
        in_ms.push_back(Now() - t0);
        t0 = Now();
        auto res = session->RunOperation("readFile", {{"path", c.path.string()}}, nullptr);
        sb_ms.push_back(Now() - t0);
        if (!res.ok() || !local.ok() || (*res)["sha256"] != local->sha256) {
          std::fprintf(stderr, "sandboxed readFile failed: %s\n", res.ok() ? "differs" : res.error().detail.c_str());
          return 1;
        }
      }
      double sb = Median(sb_ms), in = Median(in_ms), bm = Median(base_ms);
      std::printf("fs/readFile %s through the sandbox: %.1f ms; in process %.1f ms; cat %.1f ms; ratios %.2fx vs cat, %.2fx vs in process\n",
                  c.label, sb, in, bm, sb / bm, sb / in);
    }
  }
  fs::remove_all(base);
  return 0;
}
