#include "sandbox/win/path_form.h"

#include <gtest/gtest.h>

namespace cordon::win {
namespace {

TEST(PathForm, DriveRoundTrip) {
  EXPECT_EQ(ToPolicyPath(L"c:\\Users\\me\\ws\\").value(), "/C:/Users/me/ws");
  EXPECT_EQ(ToPolicyPath(L"\\\\?\\Z:\\work").value(), "/Z:/work");
  EXPECT_EQ(ToPolicyPath(L"C:\\").value(), "/C:");
  EXPECT_EQ(FromPolicyPath("/C:/Users/me").value(), L"C:\\Users\\me");
  EXPECT_EQ(FromPolicyPath("/C:").value(), L"C:\\");
}

TEST(PathForm, Unc) {
  EXPECT_EQ(ToPolicyPath(L"\\\\?\\UNC\\srv\\share\\x").value(), "/UNC/srv/share/x");
  EXPECT_EQ(FromPolicyPath("/UNC/srv/share/x").value(), L"\\\\srv\\share\\x");
}

TEST(PathForm, RejectsRelative) {
  EXPECT_FALSE(ToPolicyPath(L"relative\\x").ok());
  EXPECT_FALSE(FromPolicyPath("/home/me").ok());
}

}  // namespace
}  // namespace cordon::win
