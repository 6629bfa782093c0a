// libFuzzer target: the unified-diff parser and the git-apply matcher on untrusted bytes. Input
// is "diff\0content"; without a NUL the diff is applied to a small fixed file.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sandbox/patch/matcher.h"
#include "sandbox/patch/unified_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view all(reinterpret_cast<const char*>(data), size);
  size_t split = all.find('\0');
  std::string_view text = all.substr(0, split);
  std::string_view content = split == std::string_view::npos ? std::string_view("a\nb\nc\nd\n") : all.substr(split + 1);
  auto set = cordon::patch::ParseUnifiedDiff(text);
  if (!set) return 0;
  for (const auto& fp : set->files) {
    if (fp.hunks.empty()) continue;
    auto out = cordon::patch::ApplyHunks(fp, content, fp.path);
    (void)out;
  }
  return 0;
}
