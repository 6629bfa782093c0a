// The one RAII owner for Win32 HANDLEs (the Windows twin of UniqueFd). Closing preserves
// GetLastError(), so an error path can close handles and still report the failure that
// caused it. INVALID_HANDLE_VALUE and nullptr both mean "empty".
#pragma once

#include <windows.h>

#include <utility>

namespace cordon::win {

class ScopedHandle {
 public:
  ScopedHandle() = default;
  explicit ScopedHandle(HANDLE h) : h_(Normalize(h)) {}
  ScopedHandle(const ScopedHandle&) = delete;
  ScopedHandle& operator=(const ScopedHandle&) = delete;
  ScopedHandle(ScopedHandle&& other) noexcept : h_(other.release()) {}
  ScopedHandle& operator=(ScopedHandle&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  ~ScopedHandle() { reset(); }

  bool valid() const { return h_ != nullptr; }
  explicit operator bool() const { return valid(); }
  HANDLE get() const { return h_; }
  // For out-parameters of APIs that create handles: closes the current one first.
  HANDLE* receive() {
    reset();
    return &h_;
  }
  HANDLE release() { return std::exchange(h_, nullptr); }
  void reset(HANDLE h = nullptr) {
    HANDLE old = std::exchange(h_, Normalize(h));
    if (old != nullptr) {
      DWORD saved = ::GetLastError();
      ::CloseHandle(old);
      ::SetLastError(saved);
    }
  }

 private:
  static HANDLE Normalize(HANDLE h) { return h == INVALID_HANDLE_VALUE ? nullptr : h; }
  HANDLE h_ = nullptr;
};

// Owner for memory the system allocates with LocalAlloc (security descriptors, SID strings,
// ACLs from SetEntriesInAclW, FormatMessage buffers).
template <class T>
class ScopedLocal {
 public:
  ScopedLocal() = default;
  explicit ScopedLocal(T p) : p_(p) {}
  ScopedLocal(const ScopedLocal&) = delete;
  ScopedLocal& operator=(const ScopedLocal&) = delete;
  ScopedLocal(ScopedLocal&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  ScopedLocal& operator=(ScopedLocal&& o) noexcept {
    if (this != &o) {
      Free();
      p_ = std::exchange(o.p_, nullptr);
    }
    return *this;
  }
  ~ScopedLocal() { Free(); }
  T get() const { return p_; }
  T* receive() {
    Free();
    return &p_;
  }

 private:
  void Free() {
    if (p_ != nullptr) {
      DWORD saved = ::GetLastError();
      ::LocalFree(reinterpret_cast<HLOCAL>(p_));
      ::SetLastError(saved);
      p_ = nullptr;
    }
  }
  T p_ = nullptr;
};

}  // namespace cordon::win
