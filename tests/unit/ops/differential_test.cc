// Differential test against `git apply`: seeded random trees and random edits, the diff written
// by `git diff` (and by `diff -ruN`), applied by both; the resulting trees must be identical.
// Variants: the same diffs applied to trees whose lines moved (offsets; both must agree on
// success or refusal) and corrupted diffs (a changed context line, a truncated hunk) that both
// must refuse. Thousands of cases run in a few seconds because each batch is one git process.
#include <sys/stat.h>

#include <cstdlib>
#include <random>
#include <set>

#include "tests/unit/ops/ops_test_util.h"

namespace cordon::ops::testing {
namespace {

constexpr int kCases = 2000;
constexpr int kShiftedCases = 300;
constexpr int kCorruptCases = 200;

int Shell(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string Quote(const fs::path& p) { return "'" + p.string() + "'"; }

// Regular files only (with their exec bit): empty directories are not part of the contract.
std::map<std::string, std::string> Files(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (auto& [k, v] : Snapshot(dir))
    if (k.back() != '/') out[k] = v;
  return out;
}

struct FileSpec {
  std::vector<std::string> lines;  // bodies
  bool crlf = false;
  bool final_newline = true;
  bool exec = false;
  std::string Text() const {
    std::string out;
    for (size_t i = 0; i < lines.size(); ++i) {
      out += lines[i];
      if (i + 1 < lines.size() || final_newline) out += crlf ? "\r\n" : "\n";
    }
    return out;
  }
};

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Chance(int percent) { return Uniform(1, 100) <= percent; }

  std::string Line() {
    static const char* kWords[] = {"{", "}", "return 0;", "", "int x = 1;", "// note", "x++;", "if (x) {",
                                   "  call();", "end"};
    if (Chance(45)) return kWords[Uniform(0, 9)];  // repeated lines make contexts ambiguous
    return "line " + std::to_string(Uniform(0, 100000)) + (Chance(10) ? "  " : "");
  }

  FileSpec NewFile() {
    FileSpec f;
    int n = Uniform(0, 9) == 0 ? Uniform(0, 2) : Uniform(3, 60);
    for (int i = 0; i < n; ++i) f.lines.push_back(Line());
    f.crlf = Chance(10);
    f.final_newline = !Chance(15);
    f.exec = Chance(10);
    return f;
  }

  void Edit(FileSpec& f) {
    int edits = Uniform(1, 4);
    for (int e = 0; e < edits; ++e) {
      int n = static_cast<int>(f.lines.size());
      int kind = Uniform(0, 2);
      int at = Uniform(0, n);
      if (kind == 0 || n == 0) {
        for (int k = Uniform(1, 4); k > 0; --k) f.lines.insert(f.lines.begin() + at, Line());
      } else if (kind == 1) {
        at = std::min(at, n - 1);
        f.lines.erase(f.lines.begin() + at, f.lines.begin() + std::min(n, at + Uniform(1, 3)));
      } else {
        at = std::min(at, n - 1);
        f.lines[at] = Line();
      }
    }
    if (Chance(10)) f.final_newline = !f.final_newline;
  }

 private:
  std::mt19937 rng_;
};

void WriteSpec(const fs::path& p, const FileSpec& f) { Put(p, f.Text(), f.exec ? 0755 : 0644); }

// Builds A (before) and B (after) for `count` cases named c0000.. under `a` and `b`.
void MakeCases(Generator& g, const fs::path& a, const fs::path& b, int count) {
  for (int c = 0; c < count; ++c) {
    char name[16];
    std::snprintf(name, sizeof(name), "c%04d", c);
    int files = g.Uniform(1, 4);
    for (int i = 0; i < files; ++i) {
      std::string rel = std::string(name) + (g.Chance(30) ? "/sub/" : "/") + "f" + std::to_string(i) + ".txt";
      FileSpec f = g.NewFile();
      WriteSpec(a / rel, f);
      int action = g.Uniform(1, 100);
      if (action <= 70) {
        g.Edit(f);
        WriteSpec(b / rel, f);
      } else if (action <= 78) {
        // deleted
      } else if (action <= 86 && f.lines.size() >= 6) {
        if (g.Chance(50)) f.lines[g.Uniform(0, static_cast<int>(f.lines.size()) - 1)] = g.Line();
        WriteSpec(b / (std::string(name) + "/renamed" + std::to_string(i) + ".txt"), f);
      } else if (action <= 92) {
        f.exec = !f.exec;
        WriteSpec(b / rel, f);
      } else {
        WriteSpec(b / rel, f);  // unchanged
      }
    }
    if (g.Chance(15)) WriteSpec(b / (std::string(name) + "/added.txt"), g.NewFile());
  }
}

class DifferentialTest : public TempTree {
 protected:
  // Tens of thousands of small files: a tmpfs keeps that to seconds.
  std::string ScratchParent() const override {
    return ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  }

  void SetUp() override {
    TempTree::SetUp();
    ::setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
    ::setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
    ::setenv("GIT_CEILING_DIRECTORIES", base_.c_str(), 1);
    ::umask(022);
  }

  // `git diff` of A -> B, with renames, made in a scratch repository.
  std::string GitDiff(const fs::path& a, const fs::path& b) {
    fs::path repo = base_ / "repo";
    fs::create_directories(repo);
    fs::copy(a, repo, fs::copy_options::recursive);
    std::string git = "git -C " + Quote(repo) + " -c user.name=t -c user.email=t@t -c core.autocrlf=false ";
    EXPECT_EQ(Shell(git + "init -q && " + git + "add -A && " + git + "commit -qm a"), 0);
    for (auto& e : fs::directory_iterator(repo))
      if (e.path().filename() != ".git") fs::remove_all(e.path());
    fs::copy(b, repo, fs::copy_options::recursive);
    fs::path out = base_ / "git.diff";
    EXPECT_EQ(Shell(git + "add -A && " + git + "diff --cached -M --no-color --full-index > " + Quote(out)), 0);
    fs::remove_all(repo);
    return Get(out);
  }

  Result<ApplyPatchResult> Cordon(const fs::path& root, const std::string& diff) {
    auto policy = PolicyBuilder().WorkspaceRoot(root.string()).ClearDefaults().Build();
    if (!policy) return policy.error();
    FsContext c(*policy);
    c.limits.max_patch_file_bytes = 1 << 20;
    return ApplyPatch(c, PatchParams(diff));
  }

  // git apply in `root`; returns its exit code.
  int GitApply(const fs::path& root, const std::string& diff, bool check = false) {
    fs::path file = base_ / "one.diff";
    Put(file, diff);
    return Shell("cd " + Quote(root) + " && git apply " + (check ? "--check " : "") +
               "--whitespace=nowarn " + Quote(file) + " >/dev/null 2>&1");
  }
};

// The sections of a git diff grouped by case directory ("c0042"); cross-case renames (git may
// pair similar files of two cases) are left out of the per-case variants.
std::map<std::string, std::string> SplitByCase(const std::string& diff) {
  std::map<std::string, std::string> out;
  std::set<std::string> crossing;
  size_t pos = 0;
  while ((pos = diff.find("diff --git a/", pos)) != std::string::npos) {
    size_t next = diff.find("\ndiff --git a/", pos);
    std::string section = diff.substr(pos, next == std::string::npos ? std::string::npos : next + 1 - pos);
    std::string a_case = section.substr(13, 5);
    size_t b = section.find(" b/");
    std::string b_case = b == std::string::npos ? "" : section.substr(b + 3, 5);
    if (a_case != b_case) crossing.insert(a_case), crossing.insert(b_case);
    out[a_case] += section;
    pos = next == std::string::npos ? diff.size() : next + 1;
  }
  for (const auto& c : crossing) out.erase(c);
  return out;
}

TEST_F(DifferentialTest, GitDiffAppliesLikeGitApply) {
  Generator g(20240501);
  const fs::path a = base_ / "A", b = base_ / "B", by_git = base_ / "by_git", by_cordon = base_ / "by_cordon";
  MakeCases(g, a, b, kCases);
  std::string diff = GitDiff(a, b);
  ASSERT_GT(diff.size(), 10000u);
  fs::copy(a, by_git, fs::copy_options::recursive);
  fs::copy(a, by_cordon, fs::copy_options::recursive);
  ASSERT_EQ(GitApply(by_git, diff), 0);
  auto r = Cordon(by_cordon, diff);
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_GT(r->files.size(), static_cast<size_t>(kCases));
  EXPECT_EQ(Files(by_git), Files(b));
  EXPECT_EQ(Files(by_cordon), Files(by_git));
  EXPECT_EQ(Snapshot(by_cordon), Snapshot(by_git));  // including emptied directories
  EXPECT_TRUE(TempLeftovers(by_cordon).empty());
}

TEST_F(DifferentialTest, DiffRuNAppliesLikeGitApply) {
  Generator g(7);
  const fs::path a = base_ / "A", b = base_ / "B", by_git = base_ / "by_git", by_cordon = base_ / "by_cordon";
  MakeCases(g, a, b, kCases / 2);
  fs::path out = base_ / "ru.diff";
  ASSERT_EQ(Shell("cd " + Quote(base_) + " && diff -ruN A B > " + Quote(out)), 1);
  std::string diff = Get(out);
  fs::copy(a, by_git, fs::copy_options::recursive);
  fs::copy(a, by_cordon, fs::copy_options::recursive);
  ASSERT_EQ(GitApply(by_git, diff), 0);
  auto r = Cordon(by_cordon, diff);
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ(Files(by_cordon), Files(by_git));
}

TEST_F(DifferentialTest, MovedLinesAgreeOnOffsetsAndRefusals) {
  Generator g(99);
  const fs::path a = base_ / "A", b = base_ / "B", s_git = base_ / "s_git", s_cordon = base_ / "s_cordon";
  MakeCases(g, a, b, kShiftedCases);
  auto per_case = SplitByCase(GitDiff(a, b));
  // Shift: insert a few unique lines into every file of A, at random places.
  for (auto& e : fs::recursive_directory_iterator(a)) {
    if (!e.is_regular_file()) continue;
    std::string text = Get(e.path());
    std::vector<std::string> lines;
    size_t p = 0;
    while (p < text.size()) {
      size_t nl = text.find('\n', p);
      size_t end = nl == std::string::npos ? text.size() : nl + 1;
      lines.push_back(text.substr(p, end - p));
      p = end;
    }
    bool crlf = text.find("\r\n") != std::string::npos;
    for (int k = g.Chance(50) ? g.Uniform(1, 2) : 0; k > 0; --k) {
      std::string shifted = "shifted " + std::to_string(g.Uniform(0, 1 << 30)) + (crlf ? "\r\n" : "\n");
      // Never after a last line without a newline (that would change it).
      int limit = static_cast<int>(lines.size()) - (!lines.empty() && lines.back().back() != '\n' ? 1 : 0);
      lines.insert(lines.begin() + g.Uniform(0, std::max(limit, 0)), shifted);
    }
    std::string joined;
    for (auto& l : lines) joined += l;
    struct stat st {};
    ::stat(e.path().c_str(), &st);
    Put(e.path(), joined, st.st_mode & 0777);
  }
  fs::copy(a, s_git, fs::copy_options::recursive);
  fs::copy(a, s_cordon, fs::copy_options::recursive);
  int both_ok = 0, both_refused = 0;
  for (const auto& [name, diff] : per_case) {
    int git_rc = GitApply(s_git, diff);
    auto r = Cordon(s_cordon, diff);
    EXPECT_EQ(git_rc == 0, r.ok()) << name << ": git " << git_rc << ", cordon "
                                   << (r.ok() ? "ok" : r.error().detail) << "\n" << diff;
    (git_rc == 0 && r.ok() ? both_ok : both_refused) += 1;
  }
  EXPECT_EQ(Files(s_cordon), Files(s_git));
  EXPECT_GT(both_ok, kShiftedCases / 4);
  EXPECT_GT(both_refused, 0);
  std::printf("shifted: %d applied by both, %d refused by both\n", both_ok, both_refused);
}

TEST_F(DifferentialTest, CorruptedDiffsAreRefusedByBoth) {
  Generator g(4242);
  const fs::path a = base_ / "A", b = base_ / "B";
  MakeCases(g, a, b, kCorruptCases);
  auto per_case = SplitByCase(GitDiff(a, b));
  const auto before = Snapshot(a);
  int corrupted = 0;
  for (const auto& [name, diff] : per_case) {
    std::vector<std::string> lines;
    size_t p = 0;
    while (p < diff.size()) {
      size_t nl = diff.find('\n', p);
      lines.push_back(diff.substr(p, nl - p));
      p = nl + 1;
    }
    std::vector<size_t> context, hunk_last;
    bool in_hunk = false;
    for (size_t i = 0; i < lines.size(); ++i) {
      if (lines[i].rfind("@@ ", 0) == 0) in_hunk = true;
      else if (lines[i].rfind("diff --git", 0) == 0) in_hunk = false;
      else if (in_hunk && !lines[i].empty() && lines[i][0] == ' ') context.push_back(i);
      if (in_hunk && !lines[i].empty() && (lines[i][0] == '-' || lines[i][0] == '+') &&
          (i + 1 == lines.size() || lines[i + 1].rfind("diff --git", 0) == 0))
        hunk_last.push_back(i);
    }
    bool truncate = g.Chance(50);
    if (truncate && hunk_last.empty()) truncate = false;
    if (!truncate && context.empty()) continue;
    if (truncate) {
      lines.erase(lines.begin() + hunk_last[g.Uniform(0, static_cast<int>(hunk_last.size()) - 1)]);
    } else {
      lines[context[g.Uniform(0, static_cast<int>(context.size()) - 1)]] = " corrupted context " + name;
    }
    std::string bad;
    for (auto& l : lines) bad += l + "\n";
    ++corrupted;
    EXPECT_NE(GitApply(a, bad, /*check=*/true), 0) << name << "\n" << bad;
    auto r = Cordon(a, bad);
    EXPECT_FALSE(r.ok()) << name << "\n" << bad;
  }
  EXPECT_GT(corrupted, kCorruptCases / 2);
  EXPECT_EQ(Snapshot(a), before);
  EXPECT_TRUE(TempLeftovers(a).empty());
}

}  // namespace
}  // namespace cordon::ops::testing
