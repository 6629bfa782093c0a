// libFuzzer target: the Codex envelope parser and the Codex matcher on untrusted bytes. The
// first half of the input is the patch, the rest the file content it is applied to.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sandbox/patch/codex_parser.h"
#include "sandbox/patch/matcher.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view all(reinterpret_cast<const char*>(data), size);
  size_t split = all.find('\0');
  std::string_view text = all.substr(0, split);
  std::string_view content = split == std::string_view::npos ? std::string_view("a\nb\nc\n") : all.substr(split + 1);
  auto set = cordon::patch::ParseCodexPatch(text);
  if (!set) return 0;
  for (const auto& fp : set->files) {
    if (fp.hunks.empty()) continue;
    auto out = cordon::patch::ApplyHunks(fp, content, fp.path);
    (void)out;
  }
  return 0;
}
