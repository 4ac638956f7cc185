// Rendered path values are capped and sanitised: a container name or label can never climb out
// of the output directory, hide a file, or make a name component too long on its own.
#include "daemon/core/field_template.h"

#include <gtest/gtest.h>

#include <string>

namespace logship {
namespace {

std::string safe(std::string_view v) {
  std::string out;
  append_safe(&out, v);
  return out;
}

TEST(AppendSafeTest, SlashesNulAndOtherBytesBecomeUnderscores) {
  EXPECT_EQ(safe("web-1.prod_A"), "web-1.prod_A");
  EXPECT_EQ(safe("a/b/../c"), "a_b_.._c");
  EXPECT_EQ(safe(std::string_view("a\0b", 3)), "a_b");
  EXPECT_EQ(safe("sp ace\xc3\xa9"), "sp_ace__");
}

TEST(AppendSafeTest, LeadingDotsNeverMakeDotDotOrHiddenNames) {
  EXPECT_EQ(safe(""), "_");
  EXPECT_EQ(safe("."), "_");
  EXPECT_EQ(safe(".."), "__");
  EXPECT_EQ(safe("..."), "___");
  EXPECT_EQ(safe(".hidden"), "_hidden");
  EXPECT_EQ(safe("../../etc/passwd"), "___.._etc_passwd");
  EXPECT_EQ(safe("a.."), "a..");   // dots after another byte cannot climb: kept
}

TEST(AppendSafeTest, LongValuesAreCappedAndStayDistinct) {
  const std::string a = std::string(300, 'a');
  const std::string b = std::string(299, 'a') + "b";
  const std::string sa = safe(a);
  const std::string sb = safe(b);
  EXPECT_EQ(sa.size(), kMaxSafeValueBytes);
  EXPECT_EQ(sb.size(), kMaxSafeValueBytes);
  EXPECT_NE(sa, sb);                                   // the hash covers the whole value
  EXPECT_EQ(sa.substr(0, kMaxSafeValueBytes - 17), std::string(kMaxSafeValueBytes - 17, 'a'));
  EXPECT_EQ(sa[kMaxSafeValueBytes - 17], '-');
  EXPECT_EQ(safe(a), sa);                              // stable: the same value, the same file
  EXPECT_EQ(safe(std::string(kMaxSafeValueBytes, 'x')), std::string(kMaxSafeValueBytes, 'x'));
  EXPECT_EQ(safe(std::string(kMaxSafeValueBytes + 1, '/')).size(), kMaxSafeValueBytes);
}

TEST(FieldTemplateTest, EveryRenderedValueIsCappedSeparately) {
  auto src = std::make_shared<SourceInfo>();
  src->tags.push_back({"container_name", ValueType::kString, std::string(400, 'n')});
  src->tags.push_back({"image", ValueType::kString, "../../../etc"});
  FieldTemplate t("/var/log/x/{container_name}/{image}.log");
  Event e(std::pmr::get_default_resource());
  std::string out;
  t.render(e, *src, &out);
  const std::string prefix = "/var/log/x/";
  ASSERT_EQ(out.rfind(prefix, 0), 0u) << out;
  const std::string rest = out.substr(prefix.size());
  const auto slash = rest.find('/');
  ASSERT_NE(slash, std::string::npos);
  EXPECT_EQ(slash, kMaxSafeValueBytes);
  EXPECT_EQ(rest.substr(slash + 1), "___.._.._etc.log");   // no slash left: cannot climb
}

}  // namespace
}  // namespace logship
