// An alternate desktop for a session's processes, in the current window station, so a
// sandboxed command cannot read or inject input into windows on the user's desktop (window
// messages and hooks do not cross desktops). The DACL admits only the server's user, the
// capability SID and the logon SID. Closing the handle removes the desktop once the last
// process on it exits. Under Wine creation works but isolation cannot be observed.
#pragma once

#include <windows.h>

#include <string>

#include "sandbox/status.h"
#include "sandbox/win/sid.h"

namespace cordon::win {

class AlternateDesktop {
 public:
  AlternateDesktop() = default;
  AlternateDesktop(const AlternateDesktop&) = delete;
  AlternateDesktop& operator=(const AlternateDesktop&) = delete;
  AlternateDesktop(AlternateDesktop&& o) noexcept;
  AlternateDesktop& operator=(AlternateDesktop&& o) noexcept;
  ~AlternateDesktop();

  // `extra` SIDs (the capability SID, the logon SID) get the access a process on the desktop
  // needs; the token user gets full control.
  static Result<AlternateDesktop> Create(const std::vector<OwnedSid>& extra);

  // "winsta\desktop", for STARTUPINFO.lpDesktop.
  const std::wstring& name() const { return name_; }

 private:
  HDESK desk_ = nullptr;
  std::wstring name_;
};

}  // namespace cordon::win
