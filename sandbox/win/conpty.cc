#include "sandbox/win/conpty.h"

#include <utility>

#include "sandbox/win/win_util.h"

namespace cordon::win {

namespace {

using CreateFn = HRESULT(WINAPI*)(COORD, HANDLE, HANDLE, DWORD, HPCON*);
using ResizeFn = HRESULT(WINAPI*)(HPCON, COORD);
using CloseFn = void(WINAPI*)(HPCON);

template <class Fn>
Fn Lookup(const char* name) {
  HMODULE k32 = ::GetModuleHandleW(L"kernel32.dll");
  return k32 == nullptr ? nullptr : reinterpret_cast<Fn>(reinterpret_cast<void*>(::GetProcAddress(k32, name)));
}

}  // namespace

PseudoConsole::PseudoConsole(PseudoConsole&& o) noexcept
    : pc_(std::exchange(o.pc_, nullptr)),
      input_write_(std::move(o.input_write_)),
      output_read_(std::move(o.output_read_)) {}

PseudoConsole& PseudoConsole::operator=(PseudoConsole&& o) noexcept {
  if (this != &o) {
    Close();
    pc_ = std::exchange(o.pc_, nullptr);
    input_write_ = std::move(o.input_write_);
    output_read_ = std::move(o.output_read_);
  }
  return *this;
}

PseudoConsole::~PseudoConsole() { Close(); }

void PseudoConsole::Close() {
  if (pc_ != nullptr) {
    if (auto close = Lookup<CloseFn>("ClosePseudoConsole")) close(pc_);
    pc_ = nullptr;
  }
}

Result<PseudoConsole> PseudoConsole::Create(uint16_t cols, uint16_t rows) {
  auto create = Lookup<CreateFn>("CreatePseudoConsole");
  if (create == nullptr) return MakeError(ErrorKind::kUnsupported, "this Windows has no pseudo console (ConPTY)");
  ScopedHandle in_read, out_write;
  PseudoConsole pc;
  if (!::CreatePipe(in_read.receive(), pc.input_write_.receive(), nullptr, 0) ||
      !::CreatePipe(pc.output_read_.receive(), out_write.receive(), nullptr, 0))
    return WinError(ErrorKind::kSandboxFailed, "CreatePipe(pseudo console)");
  COORD size{static_cast<SHORT>(cols), static_cast<SHORT>(rows)};
  HRESULT hr = create(size, in_read.get(), out_write.get(), 0, &pc.pc_);
  if (FAILED(hr)) {
    pc.pc_ = nullptr;
    return MakeError(ErrorKind::kSandboxFailed, "CreatePseudoConsole failed: hr " + std::to_string(hr));
  }
  // The console host keeps its own duplicates of in_read/out_write; ours close here.
  return pc;
}

Status PseudoConsole::Resize(uint16_t cols, uint16_t rows) {
  auto resize = Lookup<ResizeFn>("ResizePseudoConsole");
  if (resize == nullptr || pc_ == nullptr) return MakeError(ErrorKind::kUnsupported, "no pseudo console");
  HRESULT hr = resize(pc_, COORD{static_cast<SHORT>(cols), static_cast<SHORT>(rows)});
  if (FAILED(hr)) return MakeError(ErrorKind::kInternal, "ResizePseudoConsole failed: hr " + std::to_string(hr));
  return OkStatus();
}

}  // namespace cordon::win
