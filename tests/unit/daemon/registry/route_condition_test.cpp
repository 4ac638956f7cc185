// Routes by content in the config: match with a condition, exclusive, unmatched, and the
// errors `logship validate` gives for them.
#include <gtest/gtest.h>

#include "daemon/registry/config_loader.h"

namespace logship::config {
namespace {

std::vector<std::string> load_errors(const std::string& yaml) {
  Errors errors("test.yaml");
  auto cfg = load_config_text(yaml, "test.yaml", errors);
  std::vector<std::string> out;
  for (const auto& e : errors.all()) out.push_back(e.to_string());
  return out;
}

constexpr const char* kHead = R"(inputs:
  app: {type: generate, count: 1}
outputs:
  a: {type: null}
  b: {type: null}
routes:
)";

TEST(RouteConditionConfig, ConditionalRoutesBesideOnePlainRoute) {
  Errors errors("t");
  auto cfg = load_config_text(std::string(kHead) + R"(  - match: {inputs: [app], condition: 'level >= error'}
    exclusive: true
    outputs: [b]
  - match: [app]
    outputs: [a]
  - match: {inputs: [app]}
    unmatched: true
    outputs: [a]
)",
                              "t", errors);
  ASSERT_TRUE(cfg) << errors.to_string();
  ASSERT_EQ(cfg->routes.size(), 3u);
  EXPECT_EQ(cfg->routes[0].condition.text, "level >= error");
  EXPECT_TRUE(cfg->routes[0].exclusive);
  EXPECT_TRUE(cfg->routes[2].unmatched);
  EXPECT_EQ(cfg->input_routes, (std::vector<std::vector<std::size_t>>{{0, 1, 2}}));
  EXPECT_EQ(cfg->input_route, std::vector<std::size_t>{0});
}

TEST(RouteConditionConfig, ErrorsNameThePlaceAndTheColumn) {
  EXPECT_EQ(load_errors(std::string(kHead) + R"(  - match: {condition: 'level >= nope'}
    outputs: [b]
)"),
            (std::vector<std::string>{
                "test.yaml:7:24: routes[0].match.condition: condition \"level >= nope\": column "
                "10: unknown value 'nope': quote strings (\"nope\"); unquoted words are levels "
                "(trace, debug, info, notice, warn, error, fatal, ...)"}));
  EXPECT_EQ(load_errors(std::string(kHead) + R"(  - match: {inputs: [app], conditon: 'a == 1'}
    outputs: [b]
)"),
            (std::vector<std::string>{
                "test.yaml:7:28: routes[0].match: unknown key 'conditon'; did you mean "
                "'condition'?"}));
  EXPECT_EQ(load_errors(std::string(kHead) + R"(  - match: {condition: 'a == 1'}
    unmatched: true
    outputs: [b]
)"),
            (std::vector<std::string>{
                "test.yaml:7:5: routes[0]: an unmatched route takes what no other route took; "
                "it has no condition"}));
}

TEST(RouteConditionConfig, TwoPlainRoutesForOneInputStayAnError) {
  auto errs = load_errors(std::string(kHead) + R"(  - match: [app]
    outputs: [a]
  - match: [app]
    outputs: [b]
)");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_NE(errs[0].find("an input takes exactly one route"), std::string::npos) << errs[0];
}

}  // namespace
}  // namespace logship::config
