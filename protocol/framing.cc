#include "protocol/framing.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "protocol/jsonrpc.h"

namespace cordon::protocol {
namespace {

constexpr std::string_view kContentLength = "content-length:";
// A stream opening with one of these LSP headers uses Content-Length framing.
constexpr std::string_view kFramingHeaders[] = {kContentLength, "content-type:"};
// A header block longer than this is garbage, not a header.
constexpr size_t kMaxHeaderBytes = 8192;

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  return true;
}

size_t FindNoCase(std::string_view text, std::string_view needle) {
  auto it = std::search(text.begin(), text.end(), needle.begin(), needle.end(),
                        [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
  return it == text.end() ? std::string_view::npos : static_cast<size_t>(it - text.begin());
}

// True when `text` is zero or more complete "Name: value" header lines (LSP allows headers
// such as Content-Type before Content-Length; they are ignored, not garbage).
bool IsHeaderLines(std::string_view text) {
  while (!text.empty()) {
    size_t eol = text.find('\n');
    if (eol == std::string_view::npos) return false;
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol + 1);
    size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) return false;
    for (char c : line.substr(0, colon))
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

}  // namespace

void FrameDecoder::Feed(std::string_view bytes) {
  if (skip_bytes_ > 0) {
    size_t n = std::min(skip_bytes_, bytes.size());
    skip_bytes_ -= n;
    bytes.remove_prefix(n);
  }
  buf_.append(bytes);
  Pump();
}

void FrameDecoder::Finish() {
  finished_ = true;
  Pump();
  if (framing_ == Framing::kNdjson && !buf_.empty() && !discarding_line_ && !IsBlank(buf_)) {
    Emit(Frame::Kind::kMessage, std::move(buf_));
  }
  buf_.clear();
}

std::optional<Frame> FrameDecoder::Next() {
  if (ready_.empty()) return std::nullopt;
  Frame f = std::move(ready_.front());
  ready_.pop_front();
  return f;
}

void FrameDecoder::Emit(Frame::Kind kind, std::string body) {
  // The depth check runs on the text (one linear scan) before any JSON parser sees it.
  if (kind == Frame::Kind::kMessage && ExceedsDepth(body, limits_.max_depth)) {
    kind = Frame::Kind::kTooDeep;
    body = "message nests deeper than " + std::to_string(limits_.max_depth) + " levels";
  }
  ready_.push_back(Frame{kind, std::move(body)});
}

void FrameDecoder::Pump() {
  if (framing_ == Framing::kUnknown) {
    size_t i = 0;
    while (i < buf_.size() && std::isspace(static_cast<unsigned char>(buf_[i]))) ++i;
    if (i == buf_.size()) {
      buf_.clear();
      return;
    }
    std::string_view rest(buf_.data() + i, buf_.size() - i);
    framing_ = Framing::kNdjson;
    for (std::string_view header : kFramingHeaders) {
      size_t n = std::min(rest.size(), header.size());
      if (!StartsWithNoCase(rest.substr(0, n), header.substr(0, n))) continue;
      if (n < header.size() && !finished_) {  // could still become a header
        framing_ = Framing::kUnknown;
        return;
      }
      if (n == header.size()) framing_ = Framing::kContentLength;
      break;
    }
    buf_.erase(0, i);
  }
  bool progress = true;
  while (progress) {
    progress = framing_ == Framing::kNdjson ? PumpNdjson() : PumpContentLength();
  }
}

bool FrameDecoder::PumpNdjson() {
  size_t nl = buf_.find('\n', scan_from_);
  if (nl == std::string::npos) {
    scan_from_ = buf_.size();
    if (!discarding_line_ && buf_.size() > limits_.max_message_bytes) {
      Emit(Frame::Kind::kTooLarge, "message exceeds " + std::to_string(limits_.max_message_bytes) + " bytes");
      discarding_line_ = true;
    }
    if (discarding_line_) {
      buf_.clear();
      scan_from_ = 0;
    }
    return false;
  }
  std::string line = buf_.substr(0, nl);
  buf_.erase(0, nl + 1);
  scan_from_ = 0;
  if (discarding_line_) {
    discarding_line_ = false;
    return true;
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.size() > limits_.max_message_bytes) {
    Emit(Frame::Kind::kTooLarge, "message exceeds " + std::to_string(limits_.max_message_bytes) + " bytes");
  } else if (!IsBlank(line)) {
    Emit(Frame::Kind::kMessage, std::move(line));
  }
  return true;
}

bool FrameDecoder::PumpContentLength() {
  if (skip_bytes_ > 0) {
    size_t n = std::min(skip_bytes_, buf_.size());
    skip_bytes_ -= n;
    buf_.erase(0, n);
    if (skip_bytes_ > 0) return false;
  }
  if (buf_.empty()) return false;
  // Resync: a frame must start with a header; skip anything before the next one.
  size_t start = FindNoCase(buf_, kContentLength);
  if (start != 0) {
    size_t ws = 0;
    while (ws < buf_.size() && std::isspace(static_cast<unsigned char>(buf_[ws]))) ++ws;
    if (ws == buf_.size()) {
      buf_.clear();
      return false;
    }
    if (start == std::string::npos) {
      if (buf_.size() > kMaxHeaderBytes) {
        Emit(Frame::Kind::kBadHeader, "expected a Content-Length header");
        buf_.erase(0, buf_.size() - kContentLength.size());
      }
      return false;
    }
    std::string_view before(buf_.data() + ws, start - ws);
    // Garbage right after a bad header is that frame's unframeable body: reported once already.
    if (!before.empty() && !IsHeaderLines(before) && !quiet_resync_)
      Emit(Frame::Kind::kBadHeader, "garbage before a Content-Length header");
    buf_.erase(0, start);
  }
  // The header block ends at the first blank line, with CRLF or bare LF line ends.
  size_t end = buf_.find("\r\n\r\n");
  size_t sep = 4;
  if (size_t lf = buf_.find("\n\n"); lf != std::string::npos && lf < end) {
    end = lf;
    sep = 2;
  }
  if (end == std::string::npos) {
    if (buf_.size() > kMaxHeaderBytes) {
      Emit(Frame::Kind::kBadHeader, "header block too long");
      buf_.erase(0, kContentLength.size());
      return true;
    }
    return false;
  }
  std::string_view headers(buf_.data(), end);
  std::string_view value = headers.substr(kContentLength.size());
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  size_t length = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
  bool ok = ec == std::errc() && ptr != value.data() && (ptr == value.data() + value.size() || *ptr == '\r' || *ptr == '\n' || *ptr == ' ');
  if (!ok) {
    Emit(Frame::Kind::kBadHeader, "invalid Content-Length value");
    buf_.erase(0, end + sep);
    quiet_resync_ = true;
    return true;
  }
  quiet_resync_ = false;
  size_t body_start = end + sep;
  if (length > limits_.max_message_bytes) {
    Emit(Frame::Kind::kTooLarge, "message exceeds " + std::to_string(limits_.max_message_bytes) + " bytes");
    buf_.erase(0, body_start);
    skip_bytes_ = length;
    return true;
  }
  if (buf_.size() - body_start < length) return false;
  Emit(Frame::Kind::kMessage, buf_.substr(body_start, length));
  buf_.erase(0, body_start + length);
  return true;
}

std::string EncodeFrame(Framing framing, std::string_view body) {
  std::string out;
  if (framing == Framing::kContentLength) {
    out = "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    out.append(body);
  } else {
    out.reserve(body.size() + 1);
    out.append(body);
    out.push_back('\n');
  }
  return out;
}

}  // namespace cordon::protocol
