// Reading and writing the scratch trees file tests build, for the unit tests of the file
// operations and the integration tests of the file methods alike: put a file, read one back,
// and take a whole tree's snapshot (content and mode of each file, links and directories
// marked) so a test can show that a tree it must not touch did not change.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace cordon::scratch_tree {

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

// Every entry under `dir`: relative path -> "content|mode=NNN" for files, "<symlink>" for
// links, and "dir/" -> "" for directories.
inline std::map<std::string, std::string> Snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  if (!fs::exists(dir)) return out;
  for (auto& e : fs::recursive_directory_iterator(dir)) {
    auto rel = fs::relative(e.path(), dir).string();
    if (e.is_symlink()) {
      out[rel] = "<symlink>";
    } else if (e.is_directory()) {
      out[rel + "/"] = "";
    } else {
      struct stat st {};
      ::lstat(e.path().c_str(), &st);
      out[rel] = Get(e.path()) + "|mode=" + std::to_string(st.st_mode & 0777);
    }
  }
  return out;
}

// Leftover temp or backup entries of the file operations (".cordon-*") anywhere under `dir`.
inline std::vector<std::string> TempLeftovers(const fs::path& dir) {
  std::vector<std::string> out;
  for (auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename().string().rfind(".cordon-", 0) == 0) out.push_back(e.path().string());
  return out;
}

}  // namespace cordon::scratch_tree
