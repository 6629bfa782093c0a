// Line-level view of file content for the patch matcher. A line keeps its terminator ("\n",
// "\r\n", or none for a final line without one), so joining the lines again restores the bytes
// exactly; comparisons that ignore terminators or whitespace go through the helpers below.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cordon::patch {

// Splits after every '\n'. "" gives no lines; "a\nb" gives {"a\n", "b"}.
std::vector<std::string> SplitLines(std::string_view content);
std::string JoinLines(const std::vector<std::string>& lines);

// True when the content's lines end in "\r\n" (every terminated line, and at least one).
bool UsesCrlf(const std::vector<std::string>& lines);

// The line without its terminator ("\n" and one preceding "\r").
std::string_view LineBody(std::string_view line);
// True when the line ends in '\n'.
inline bool HasTerminator(std::string_view line) { return !line.empty() && line.back() == '\n'; }

// Codex fuzz levels, applied to bodies: exact, trailing whitespace ignored, surrounding
// whitespace ignored, then Unicode dashes/quotes/spaces folded to ASCII (and trimmed).
enum class Fuzz { kExact = 0, kTrimEnd = 1, kTrim = 2, kUnicode = 3 };
constexpr int kFuzzLevels = 4;
std::string NormalizeForFuzz(std::string_view body, Fuzz level);

// Cuts `text` to at most `max` bytes for an error message, marking the cut.
std::string Excerpt(std::string_view text, size_t max = 120);

}  // namespace cordon::patch
