// Filesystem escapes: writes outside the writable roots by every spelling, writes to protected
// paths, reads of read-denied paths. Each DENIED run is paired with the same probe under a
// policy that allows the target (it must SUCCEED), so a broken probe cannot pass as a denial.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "tests/escape/escape_env.h"

namespace cordon::escape {
namespace {

std::string TestName() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string(info->test_suite_name()) + "." + info->name();
}

class FsEscape : public ::testing::Test {
 protected:
  void SetUp() override {
    if (EscapeEnv::Get().probe().empty()) GTEST_SKIP() << "the probe binary could not be copied";
    d_ = MakeDirs(TestName());
  }
  // The workspace-write policy, and the same policy with `out` as an extra writable root.
  Policy Confined() { return MustBuild(BaseBuilder(d_)); }
  Policy OutWritable() { return MustBuild(BaseBuilder(d_).WritableRoot(d_.out)); }
  Dirs d_;
};

// Direct write to a directory outside the writable roots. Control: `out` as a writable root.
TEST_F(FsEscape, WriteOutsideWritableRoots) {
  EXPECT_DENIED(RunSandboxed(Confined(), {"write", d_.out + "/x"}));
  EXPECT_SUCCEEDED(RunSandboxed(OutWritable(), {"write", d_.out + "/x"}));
}

// A root-owned system path, for good measure. Control: the workspace itself.
TEST_F(FsEscape, WriteEtc) {
  EXPECT_DENIED(RunSandboxed(Confined(), {"write", "/etc/cordon-escape"}));
  EXPECT_NE(::access("/etc/cordon-escape", F_OK), 0);
  EXPECT_SUCCEEDED(RunSandboxed(Confined(), {"write", d_.ws + "/x"}));
}

// A symlink planted in the workspace that points outside. Control: same link, `out` writable.
TEST_F(FsEscape, WriteThroughSymlink) {
  EXPECT_DENIED(RunSandboxed(Confined(), {"symlink-write", d_.out + "/target", d_.ws + "/link"}));
  EXPECT_SUCCEEDED(RunSandboxed(OutWritable(), {"symlink-write", d_.out + "/target", d_.ws + "/link"}));
}

// Hard-linking an outside file into the workspace to write through the link (a different
// mount: EXDEV, and Landlock refuses the link too). Control: the same hard link of a file that
// lives in the workspace.
TEST_F(FsEscape, WriteThroughHardlink) {
  EXPECT_DENIED(RunSandboxed(Confined(), {"hardlink-write", d_.out + "/target", d_.ws + "/hl"}));
  std::ofstream(d_.ws + "/own") << "mine\n";
  EXPECT_SUCCEEDED(RunSandboxed(Confined(), {"hardlink-write", d_.ws + "/own", d_.ws + "/hl2"}));
}

// ".." out of the workspace. Control: the same spelling with `out` writable.
TEST_F(FsEscape, WriteThroughDotDot) {
  std::string path = d_.ws + "/../out/x";
  EXPECT_DENIED(RunSandboxed(Confined(), {"write", path}));
  EXPECT_SUCCEEDED(RunSandboxed(OutWritable(), {"write", path}));
}

// /proc/self/root leads to the sandbox's own root, not the host's. Control: the workspace
// through the same prefix.
TEST_F(FsEscape, WriteThroughProcSelfRoot) {
  EXPECT_DENIED(RunSandboxed(Confined(), {"write", "/proc/self/root" + d_.out + "/x"}));
  EXPECT_SUCCEEDED(RunSandboxed(Confined(), {"write", "/proc/self/root" + d_.ws + "/x"}));
}

// /proc/<pid>/cwd of the session's init (the worker, cwd "/"): non-dumpable, so the link is
// closed to commands. Control: /proc/self/cwd (the workspace).
TEST_F(FsEscape, WriteThroughProcPidCwd) {
  EXPECT_DENIED(RunSandboxed(Confined(), {"write", "/proc/1/cwd" + d_.out + "/x"}));
  EXPECT_DENIED(RunSandboxed(Confined(), {"write", "/proc/1/cwd/etc/cordon-escape"}));
  EXPECT_SUCCEEDED(RunSandboxed(Confined(), {"write", "/proc/self/cwd/x"}));
}

// The session's init (the worker) and the per-command leaders are invisible in /proc: a
// command cannot read their status, environment, fds or root. Control: /proc/self.
TEST_F(FsEscape, SessionInitHiddenInProc) {
  EXPECT_DENIED(RunSandboxed(Confined(), {"read", "/proc/1/status", "Name:"}));
  EXPECT_DENIED(RunSandboxed(Confined(), {"read", "/proc/2/status", "Name:"}));
  EXPECT_SUCCEEDED(RunSandboxed(Confined(), {"read", "/proc/self/status", "Name:"}));
}

// .git inside a writable root stays read-only. Control: the same write with the protected
// defaults cleared.
TEST_F(FsEscape, WriteProtectedGit) {
  ::mkdir((d_.ws + "/.git").c_str(), 0755);
  std::ofstream(d_.ws + "/.git/config") << "[core]\n";
  EXPECT_DENIED(RunSandboxed(Confined(), {"write", d_.ws + "/.git/config"}));
  EXPECT_DENIED(RunSandboxed(Confined(), {"write", d_.ws + "/.git/hooks-pre-commit"}));
  Policy open = MustBuild(BaseBuilder(d_).ClearDefaults());
  EXPECT_SUCCEEDED(RunSandboxed(open, {"write", d_.ws + "/.git/config"}));
}

TEST_F(FsEscape, WriteProtectedCordonDir) {
  ::mkdir((d_.ws + "/.cordon").c_str(), 0755);
  EXPECT_DENIED(RunSandboxed(Confined(), {"write", d_.ws + "/.cordon/config.toml"}));
  Policy open = MustBuild(BaseBuilder(d_).ClearDefaults());
  EXPECT_SUCCEEDED(RunSandboxed(open, {"write", d_.ws + "/.cordon/config.toml"}));
}

// A worktree: ws/.git is a file naming the real git dir, which lies in another writable root
// under a name nothing else protects. The resolved git dir is protected. Controls: a sibling
// in that root, and the same write once no worktree points at the directory.
TEST_F(FsEscape, WriteWorktreeGitDir) {
  std::string shared = d_.root + "/shared";
  std::string gitdir = shared + "/gitdirs/wt";
  ::mkdir(shared.c_str(), 0755);
  ::mkdir((shared + "/gitdirs").c_str(), 0755);
  ::mkdir(gitdir.c_str(), 0755);
  std::ofstream(gitdir + "/HEAD") << "ref: refs/heads/main\n";
  std::ofstream(d_.ws + "/.git") << "gitdir: " << gitdir << "\n";
  EXPECT_DENIED(RunSandboxed(MustBuild(BaseBuilder(d_).WritableRoot(shared)), {"write", gitdir + "/HEAD"}));
  EXPECT_SUCCEEDED(RunSandboxed(MustBuild(BaseBuilder(d_).WritableRoot(shared)), {"write", shared + "/other"}));
  // Without the worktree's .git file, nothing points at the directory: it is writable.
  ::unlink((d_.ws + "/.git").c_str());
  EXPECT_SUCCEEDED(RunSandboxed(MustBuild(BaseBuilder(d_).WritableRoot(shared)), {"write", gitdir + "/HEAD"}));
}

// A protected name that does not exist when the session starts. A command may create it:
// `git init` in a fresh workspace is an ordinary request, and a mount cannot cover a path that
// does not exist without leaving a placeholder on the user's disk. What it creates is then
// protected for every later session. This test pins that contract down both ways.
TEST_F(FsEscape, MissingProtectedPathIsCreatableThenProtected) {
  EXPECT_SUCCEEDED(RunSandboxed(Confined(), {"mkdir", d_.ws + "/.git"}));
  EXPECT_DENIED(RunSandboxed(Confined(), {"write", d_.ws + "/.git/config"}));
}

// ~/.ssh (a directory) is covered. Control: the same read with the read-deny defaults cleared.
TEST_F(FsEscape, ReadDeniedSshKey) {
  std::string key = d_.home + "/.ssh/id_rsa";
  EXPECT_DENIED(RunSandboxed(Confined(), {"read", key, "SECRET-KEY"}));
  EXPECT_SUCCEEDED(RunSandboxed(MustBuild(BaseBuilder(d_).ClearDefaults()), {"read", key, "SECRET-KEY"}));
}

// ~/.netrc (a file) is covered by an empty unreadable file. Control: defaults cleared.
TEST_F(FsEscape, ReadDeniedNetrc) {
  std::string netrc = d_.home + "/.netrc";
  EXPECT_DENIED(RunSandboxed(Confined(), {"read", netrc, "SECRET-KEY"}));
  EXPECT_SUCCEEDED(RunSandboxed(MustBuild(BaseBuilder(d_).ClearDefaults()), {"read", netrc, "SECRET-KEY"}));
}

// A symlink in the workspace to the key does not uncover it. Control: defaults cleared.
TEST_F(FsEscape, ReadDeniedThroughSymlink) {
  ::symlink((d_.home + "/.ssh").c_str(), (d_.ws + "/keys").c_str());
  EXPECT_DENIED(RunSandboxed(Confined(), {"read", d_.ws + "/keys/id_rsa", "SECRET-KEY"}));
  EXPECT_SUCCEEDED(
      RunSandboxed(MustBuild(BaseBuilder(d_).ClearDefaults()), {"read", d_.ws + "/keys/id_rsa", "SECRET-KEY"}));
}

// A read-deny path named in config (paths.read_deny) rather than by the defaults.
TEST_F(FsEscape, ReadDeniedConfiguredPath) {
  ::mkdir((d_.out + "/secrets").c_str(), 0755);
  std::ofstream(d_.out + "/secrets/token") << "SECRET-KEY\n";
  Policy denied = MustBuild(BaseBuilder(d_).ReadDeny(d_.out + "/secrets"));
  EXPECT_DENIED(RunSandboxed(denied, {"read", d_.out + "/secrets/token", "SECRET-KEY"}));
  EXPECT_SUCCEEDED(RunSandboxed(Confined(), {"read", d_.out + "/secrets/token", "SECRET-KEY"}));
}

// /dev holds only the minimal set: no disks, no /dev/mem. Control: the same probe on the host
// sees them; /dev/null exists inside.
TEST_F(FsEscape, DevicesAbsent) {
  for (const char* dev : {"/dev/mem", "/dev/kmsg", "/dev/loop0", "/dev/sda", "/dev/vda", "/dev/tty0"}) {
    if (::access(dev, F_OK) != 0) continue;  // nothing to hide on this host
    EXPECT_DENIED(RunSandboxed(Confined(), {"exists", dev})) << dev;
    EXPECT_SUCCEEDED(RunOutside({"exists", dev})) << dev;
  }
  EXPECT_SUCCEEDED(RunSandboxed(Confined(), {"exists", "/dev/null"}));
}

// The session's own cgroup limit file cannot be raised from inside. Control: the test (the
// server's side) writes the same value back from outside.
TEST_F(FsEscape, CgroupLimitFileReadOnly) {
  auto s = MustCreate(Confined());
  ASSERT_TRUE(s);
  std::string file = SessionLimitFile(*s);
  if (file.empty()) GTEST_SKIP() << "this session has no cgroup of its own (limits are rlimits): nothing to raise";
  EXPECT_DENIED(RunIn(*s, {"write", file}));
  std::string value;
  std::getline(std::ifstream(file), value);
  std::ofstream out(file);
  out << value << "\n";
  out.flush();
  EXPECT_TRUE(out.good()) << "control: writing " << file << " from outside";
  s->Close();
}

}  // namespace
}  // namespace cordon::escape
