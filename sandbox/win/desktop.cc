#include "sandbox/win/desktop.h"

#include <atomic>
#include <cwchar>
#include <utility>

#include "sandbox/win/explicit_access.h"
#include "sandbox/win/scoped_handle.h"
#include "sandbox/win/win_util.h"

namespace cordon::win {

namespace {

std::atomic<unsigned> g_desktop_counter{0};

constexpr DWORD kDesktopUse = DESKTOP_CREATEWINDOW | DESKTOP_CREATEMENU | DESKTOP_READOBJECTS |
                              DESKTOP_WRITEOBJECTS | DESKTOP_ENUMERATE | READ_CONTROL;

}  // namespace

AlternateDesktop::AlternateDesktop(AlternateDesktop&& o) noexcept
    : desk_(std::exchange(o.desk_, nullptr)), name_(std::move(o.name_)) {}

AlternateDesktop& AlternateDesktop::operator=(AlternateDesktop&& o) noexcept {
  if (this != &o) {
    if (desk_ != nullptr) ::CloseDesktop(desk_);
    desk_ = std::exchange(o.desk_, nullptr);
    name_ = std::move(o.name_);
  }
  return *this;
}

AlternateDesktop::~AlternateDesktop() {
  if (desk_ != nullptr) ::CloseDesktop(desk_);
}

Result<AlternateDesktop> AlternateDesktop::Create(const std::vector<OwnedSid>& extra) {
  HWINSTA station = ::GetProcessWindowStation();
  wchar_t station_name[256] = {};
  DWORD n = 0;
  if (station == nullptr ||
      !::GetUserObjectInformationW(station, UOI_NAME, station_name, sizeof(station_name), &n))
    return WinError(ErrorKind::kSandboxFailed, "GetUserObjectInformationW(window station)");

  ScopedHandle token;
  if (!::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, token.receive()))
    return WinError(ErrorKind::kSandboxFailed, "OpenProcessToken");
  auto user = TokenUserSid(token.get());
  if (!user) return user.error();

  std::vector<EXPLICIT_ACCESS_W> entries;
  entries.push_back(SidAccess(*user, GENERIC_ALL));
  for (const auto& sid : extra)
    if (!sid.empty()) entries.push_back(SidAccess(sid, kDesktopUse));
  ScopedLocal<PACL> acl;
  DWORD err = ::SetEntriesInAclW(static_cast<ULONG>(entries.size()), entries.data(), nullptr, acl.receive());
  if (err != ERROR_SUCCESS) return WinError(ErrorKind::kSandboxFailed, "SetEntriesInAclW(desktop)", err);
  SECURITY_DESCRIPTOR sd;
  ::InitializeSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION);
  ::SetSecurityDescriptorDacl(&sd, TRUE, acl.get(), FALSE);
  SECURITY_ATTRIBUTES sa{sizeof(sa), &sd, FALSE};

  wchar_t desk_name[96];
  swprintf(desk_name, 96, L"cordon-%lu-%u", ::GetCurrentProcessId(), g_desktop_counter.fetch_add(1));
  AlternateDesktop out;
  out.desk_ = ::CreateDesktopW(desk_name, nullptr, nullptr, 0, GENERIC_ALL, &sa);
  if (out.desk_ == nullptr) return WinError(ErrorKind::kSandboxFailed, "CreateDesktopW");
  out.name_ = std::wstring(station_name) + L"\\" + desk_name;
  return out;
}

}  // namespace cordon::win
