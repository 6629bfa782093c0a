// A scratch tree for the file-operation tests: <tmp>/ws (the workspace), <tmp>/outside (must
// never be touched), <tmp>/ws-evil (a sibling whose name starts like the workspace's). Real
// files, real syscalls; the tree is removed afterwards.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sandbox/ops/file_ops.h"
#include "sandbox/policy.h"

namespace cordon::ops::testing {

namespace fs = std::filesystem;

inline void Put(const fs::path& p, const std::string& content, mode_t mode = 0644) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  ::chmod(p.c_str(), mode);
}

inline std::string Get(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every regular file under `dir` (relative path -> content), for whole-tree comparisons.
inline std::map<std::string, std::string> Snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  if (!fs::exists(dir)) return out;
  for (auto& e : fs::recursive_directory_iterator(dir)) {
    auto rel = fs::relative(e.path(), dir).string();
    if (e.is_symlink()) out[rel] = "<symlink>";
    else if (e.is_directory()) out[rel + "/"] = "";
    else {
      struct stat st {};
      ::lstat(e.path().c_str(), &st);
      out[rel] = Get(e.path()) + "|mode=" + std::to_string(st.st_mode & 0777);
    }
  }
  return out;
}

// Names of leftover temp/backup entries anywhere under `dir`.
inline std::vector<std::string> TempLeftovers(const fs::path& dir) {
  std::vector<std::string> out;
  for (auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename().string().rfind(".cordon-", 0) == 0) out.push_back(e.path().string());
  return out;
}

class TempTree : public ::testing::Test {
 protected:
  // Where the scratch tree lives; a subclass may prefer a tmpfs for many small files.
  virtual std::string ScratchParent() const { return "/tmp"; }

  void SetUp() override {
    std::string tmpl = ScratchParent() + "/cordon-ops-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr) << tmpl;
    base_ = fs::path(tmpl.c_str());
    ws_ = base_ / "ws";
    outside_ = base_ / "outside";
    evil_ = base_ / "ws-evil";
    fs::create_directories(ws_);
    fs::create_directories(outside_);
    fs::create_directories(evil_);
    Put(outside_ / "secret.txt", "outside secret\n");
    Put(evil_ / "evil.txt", "evil\n");
    auto policy = PolicyBuilder().WorkspaceRoot(ws_.string()).Build();
    ASSERT_TRUE(policy.ok()) << policy.error().detail;
    policy_ = std::make_unique<Policy>(std::move(policy.value()));
    ctx_ = std::make_unique<FsContext>(*policy_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(base_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(base_, ec);
  }

  // The outside tree is byte-identical to how SetUp made it.
  void ExpectOutsideUntouched() {
    EXPECT_EQ(Get(outside_ / "secret.txt"), "outside secret\n");
    EXPECT_EQ(Get(evil_ / "evil.txt"), "evil\n");
    std::vector<std::string> names;
    for (auto& e : fs::directory_iterator(outside_)) names.push_back(e.path().filename().string());
    EXPECT_EQ(names, std::vector<std::string>{"secret.txt"});
  }

  const FsContext& ctx() { return *ctx_; }

  fs::path base_, ws_, outside_, evil_;
  std::unique_ptr<Policy> policy_;
  std::unique_ptr<FsContext> ctx_;
};

inline ApplyPatchParams PatchParams(std::string text, bool dry_run = false) {
  ApplyPatchParams p;
  p.patch = std::move(text);
  p.dryRun = dry_run;
  return p;
}

}  // namespace cordon::ops::testing
