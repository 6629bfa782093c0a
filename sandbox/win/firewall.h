// `elevated` mode network blocking: Windows Firewall rules that apply only to the offline
// sandbox user (LocalUserAuthorizedList = an SDDL naming its SID), blocking outbound and
// inbound traffic to everything except loopback. The rule set is built as data (tested
// anywhere); ApplyFirewallRules talks to INetFwPolicy2 over COM, which Wine accepts but does
// not store or enforce, so its effect is verified on Windows only.
// Known gaps, as in the design it follows: firewall rules do not cover ICMP-less name
// resolution through the system DNS client; WFP filters would.
#pragma once

#include <string>
#include <vector>

#include "sandbox/status.h"

namespace cordon::win {

struct FirewallRuleSpec {
  std::wstring name;
  std::wstring description;
  bool outbound = true;
  int protocol = 256;             // NET_FW_IP_PROTOCOL_ANY
  std::wstring remote_addresses;  // "*" or a range list
  std::wstring local_user_sddl;   // "O:LSD:(A;;CC;;;<sid>)"
};

// The SDDL that scopes a rule to one user SID.
std::wstring UserScopeSddl(const std::string& sid);

// Block-all-but-loopback rules for the offline user, outbound and inbound.
std::vector<FirewallRuleSpec> OfflineUserRules(const std::string& offline_user_sid);

// Adds (replacing same-named) rules, then reads each back and checks its user scope; fails
// closed if the local policy says local rules would not take effect.
Status ApplyFirewallRules(const std::vector<FirewallRuleSpec>& rules);
Status RemoveFirewallRules(const std::vector<FirewallRuleSpec>& rules);

// True when every rule is stored, enabled and still scoped to its user (what `sandbox/info`
// reports as network "enforced" in elevated mode). False where the rules cannot be read back
// (Wine stores nothing), so the report never claims a block it cannot see.
bool FirewallRulesPresent(const std::vector<FirewallRuleSpec>& rules);

}  // namespace cordon::win
