// Elevated-mode bookkeeping: password shape, DPAPI credential round trip, firewall rule specs,
// and the advisory network environment of unelevated mode. Creating users and firewall rules
// needs an administrator on real Windows (Wine stubs both), so those calls run there only.
#include <gtest/gtest.h>
#include <windows.h>

#include <algorithm>
#include <cctype>

#include "sandbox/win/credentials.h"
#include "sandbox/win/firewall.h"
#include "sandbox/win/network_env.h"
#include "sandbox/win/sandbox_users.h"
#include "tests/win/test_util.h"

namespace cordon::win {
namespace {

TEST(SandboxUsers, PasswordsAreLongMixedAndDistinct) {
  auto a = GeneratePassword();
  auto b = GeneratePassword();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 24u);
  EXPECT_NE(*a, *b);
  auto has = [&](int (*pred)(int)) {
    return std::any_of(a->begin(), a->end(), [&](char c) { return pred(static_cast<unsigned char>(c)) != 0; });
  };
  EXPECT_TRUE(has(::islower));
  EXPECT_TRUE(has(::isupper));
  EXPECT_TRUE(has(::isdigit));
  EXPECT_TRUE(has(::ispunct));
  EXPECT_FALSE(GeneratePassword(4).ok());
}

TEST(Credentials, DpapiRoundTripAndNoPlaintextOnDisk) {
  StoredCredentials creds;
  creds.offline = {"CordonSandboxOffline", "S3cret!offline-password"};
  creds.online = {"CordonSandboxOnline", "An0ther?online-password"};
  auto json = CredentialsToJson(creds);
  ASSERT_TRUE(json.ok()) << json.error().detail;
  EXPECT_EQ(json->find("S3cret"), std::string::npos);
  EXPECT_NE(json->find("CordonSandboxOffline"), std::string::npos);
  auto back = CredentialsFromJson(*json);
  ASSERT_TRUE(back.ok()) << back.error().detail;
  EXPECT_EQ(back->offline.password, creds.offline.password);
  EXPECT_EQ(back->online.username, creds.online.username);
  EXPECT_FALSE(UnprotectSecret("bm90IGEgYmxvYg==").ok()) << "not a DPAPI blob";
}

TEST(Firewall, OfflineRulesAreScopedToTheUserSid) {
  auto rules = OfflineUserRules("S-1-5-21-1-2-3-1001");
  ASSERT_EQ(rules.size(), 2u);
  for (const auto& r : rules) {
    EXPECT_EQ(r.local_user_sddl, L"O:LSD:(A;;CC;;;S-1-5-21-1-2-3-1001)");
    EXPECT_EQ(r.protocol, 256);
    EXPECT_EQ(r.remote_addresses.find(L"127.0.0.1"), std::wstring::npos) << "loopback stays reachable";
  }
  EXPECT_TRUE(rules[0].outbound);
  EXPECT_FALSE(rules[1].outbound);
  EXPECT_NE(rules[0].name, rules[1].name);
}

TEST(Firewall, ApplyOnWindows) {
  SKIP_UNDER_WINE();
  BOOL admin = FALSE;
  BYTE sid[SECURITY_MAX_SID_SIZE];
  DWORD n = sizeof(sid);
  ::CreateWellKnownSid(WinBuiltinAdministratorsSid, nullptr, sid, &n);
  ::CheckTokenMembership(nullptr, sid, &admin);
  if (!admin) GTEST_SKIP() << "needs an administrator";
  auto rules = OfflineUserRules("S-1-5-21-1-2-3-1001");
  for (auto& r : rules) r.name += L"_test";
  ASSERT_TRUE(ApplyFirewallRules(rules).ok());
  EXPECT_TRUE(RemoveFirewallRules(rules).ok());
}

TEST(NetworkEnv, AdvisoryVariablesPointAtADeadProxy) {
  auto env = AdvisoryNoNetworkEnv();
  auto find = [&](const std::string& k) {
    auto it = std::find_if(env.begin(), env.end(), [&](const auto& kv) { return kv.first == k; });
    return it == env.end() ? std::string() : it->second;
  };
  EXPECT_EQ(find("HTTPS_PROXY"), "http://127.0.0.1:9");
  EXPECT_EQ(find("CARGO_NET_OFFLINE"), "true");
  EXPECT_NE(std::string(AdvisoryNetworkReason()).find("advisory"), std::string::npos);
}

}  // namespace
}  // namespace cordon::win
