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
#include "tests/common/scratch_tree.h"

namespace cordon::ops::testing {

namespace fs = std::filesystem;

using scratch_tree::Get;
using scratch_tree::Put;
using scratch_tree::Snapshot;
using scratch_tree::TempLeftovers;

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
