#include "sandbox/win/firewall.h"

#include <windows.h>
// after windows.h
#include <netfw.h>
#include <oleauto.h>

#include "sandbox/win/win_util.h"

namespace cordon::win {

namespace {

// All IPv4/IPv6 addresses except 127.0.0.0/8 and ::1.
constexpr wchar_t kNonLoopback[] =
    L"0.0.0.0-126.255.255.255,128.0.0.0-255.255.255.255,"
    L"::-::0,::2-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";

Error ComError(const std::string& what, HRESULT hr) {
  return MakeError(ErrorKind::kSandboxFailed, what + " failed: hr " + std::to_string(static_cast<long>(hr)));
}

template <class T>
struct ComPtr {
  T* p = nullptr;
  ~ComPtr() {
    if (p != nullptr) p->Release();
  }
  T** receive() { return &p; }
  T* operator->() const { return p; }
};

struct Bstr {
  BSTR s;
  explicit Bstr(const std::wstring& text) : s(::SysAllocString(text.c_str())) {}
  ~Bstr() { ::SysFreeString(s); }
};

class ComInit {
 public:
  ComInit() : hr_(::CoInitializeEx(nullptr, COINIT_APARTMENTTHREADED)) {}
  ~ComInit() {
    if (SUCCEEDED(hr_)) ::CoUninitialize();
  }

 private:
  HRESULT hr_;
};

}  // namespace

std::wstring UserScopeSddl(const std::string& sid) { return L"O:LSD:(A;;CC;;;" + Utf8ToWide(sid) + L")"; }

std::vector<FirewallRuleSpec> OfflineUserRules(const std::string& offline_user_sid) {
  std::wstring scope = UserScopeSddl(offline_user_sid);
  return {
      {L"cordon_sandbox_offline_block_outbound", L"cordon: no network for the offline sandbox user", true, 256,
       kNonLoopback, scope},
      {L"cordon_sandbox_offline_block_inbound", L"cordon: no network for the offline sandbox user", false, 256,
       kNonLoopback, scope},
  };
}

Status ApplyFirewallRules(const std::vector<FirewallRuleSpec>& rules) {
  ComInit com;
  ComPtr<INetFwPolicy2> policy;
  HRESULT hr = ::CoCreateInstance(__uuidof(NetFwPolicy2), nullptr, CLSCTX_INPROC_SERVER, __uuidof(INetFwPolicy2),
                                  reinterpret_cast<void**>(policy.receive()));
  if (FAILED(hr)) return ComError("CoCreateInstance(NetFwPolicy2)", hr);
  NET_FW_MODIFY_STATE state = NET_FW_MODIFY_STATE_OK;
  if (SUCCEEDED(policy->get_LocalPolicyModifyState(&state)) && state != NET_FW_MODIFY_STATE_OK)
    return MakeError(ErrorKind::kUnsupported, "local firewall rules would not take effect (group policy)");
  ComPtr<INetFwRules> list;
  hr = policy->get_Rules(list.receive());
  if (FAILED(hr)) return ComError("INetFwPolicy2::get_Rules", hr);
  for (const auto& spec : rules) {
    Bstr name(spec.name);
    list->Remove(name.s);  // replace, never duplicate
    ComPtr<INetFwRule3> rule;
    hr = ::CoCreateInstance(__uuidof(NetFwRule), nullptr, CLSCTX_INPROC_SERVER, __uuidof(INetFwRule3),
                            reinterpret_cast<void**>(rule.receive()));
    if (FAILED(hr)) return ComError("CoCreateInstance(NetFwRule)", hr);
    Bstr desc(spec.description), remote(spec.remote_addresses), users(spec.local_user_sddl);
    rule->put_Name(name.s);
    rule->put_Description(desc.s);
    rule->put_Direction(spec.outbound ? NET_FW_RULE_DIR_OUT : NET_FW_RULE_DIR_IN);
    rule->put_Action(NET_FW_ACTION_BLOCK);
    rule->put_Protocol(spec.protocol);
    rule->put_RemoteAddresses(remote.s);
    rule->put_Profiles(NET_FW_PROFILE2_ALL);
    rule->put_Enabled(VARIANT_TRUE);
    hr = rule->put_LocalUserAuthorizedList(users.s);
    if (FAILED(hr)) return ComError("INetFwRule3::put_LocalUserAuthorizedList", hr);
    hr = list->Add(rule.p);
    if (FAILED(hr)) return ComError("INetFwRules::Add", hr);
    // Read back: a rule that lost its user scope would block (or not) the wrong identity.
    ComPtr<INetFwRule> stored;
    if (FAILED(list->Item(name.s, stored.receive())))
      return MakeError(ErrorKind::kSandboxFailed, "firewall rule not stored: " + WideToUtf8(spec.name));
    ComPtr<INetFwRule3> stored3;
    BSTR scope = nullptr;
    if (FAILED(stored->QueryInterface(__uuidof(INetFwRule3), reinterpret_cast<void**>(stored3.receive()))) ||
        FAILED(stored3->get_LocalUserAuthorizedList(&scope)) || scope == nullptr ||
        std::wstring(scope) != spec.local_user_sddl) {
      ::SysFreeString(scope);
      return MakeError(ErrorKind::kSandboxFailed, "firewall rule scope did not stick: " + WideToUtf8(spec.name));
    }
    ::SysFreeString(scope);
  }
  return OkStatus();
}

Status RemoveFirewallRules(const std::vector<FirewallRuleSpec>& rules) {
  ComInit com;
  ComPtr<INetFwPolicy2> policy;
  HRESULT hr = ::CoCreateInstance(__uuidof(NetFwPolicy2), nullptr, CLSCTX_INPROC_SERVER, __uuidof(INetFwPolicy2),
                                  reinterpret_cast<void**>(policy.receive()));
  if (FAILED(hr)) return ComError("CoCreateInstance(NetFwPolicy2)", hr);
  ComPtr<INetFwRules> list;
  hr = policy->get_Rules(list.receive());
  if (FAILED(hr)) return ComError("INetFwPolicy2::get_Rules", hr);
  for (const auto& spec : rules) {
    Bstr name(spec.name);
    list->Remove(name.s);
  }
  return OkStatus();
}

bool FirewallRulesPresent(const std::vector<FirewallRuleSpec>& rules) {
  ComInit com;
  ComPtr<INetFwPolicy2> policy;
  if (FAILED(::CoCreateInstance(__uuidof(NetFwPolicy2), nullptr, CLSCTX_INPROC_SERVER, __uuidof(INetFwPolicy2),
                                reinterpret_cast<void**>(policy.receive()))))
    return false;
  ComPtr<INetFwRules> list;
  if (FAILED(policy->get_Rules(list.receive()))) return false;
  for (const auto& spec : rules) {
    Bstr name(spec.name);
    ComPtr<INetFwRule> stored;
    if (FAILED(list->Item(name.s, stored.receive())) || stored.p == nullptr) return false;
    VARIANT_BOOL enabled = VARIANT_FALSE;
    if (FAILED(stored->get_Enabled(&enabled)) || enabled != VARIANT_TRUE) return false;
    ComPtr<INetFwRule3> stored3;
    BSTR scope = nullptr;
    bool scoped = SUCCEEDED(stored->QueryInterface(__uuidof(INetFwRule3), reinterpret_cast<void**>(stored3.receive()))) &&
                  SUCCEEDED(stored3->get_LocalUserAuthorizedList(&scope)) && scope != nullptr &&
                  std::wstring(scope) == spec.local_user_sddl;
    ::SysFreeString(scope);
    if (!scoped) return false;
  }
  return true;
}

}  // namespace cordon::win
