#include "outputs/elasticsearch/bulk_response.h"

#include <gtest/gtest.h>

namespace logship::plugins::es {
namespace {

TEST(BulkResponse, FastPathWithoutErrors) {
  BulkResponseParser p;
  BulkResponse r;
  ASSERT_TRUE(p.parse(R"({"errors":false,"items":[{"index":{"status":201}}]})", 1, &r).is_ok());
  EXPECT_FALSE(r.errors);
  EXPECT_TRUE(r.items.empty());
}

TEST(BulkResponse, MixedItemStatuses) {
  const std::string body = R"({"took":3,"errors":true,"items":[
 {"create":{"_index":"i","_id":"1","status":201}},
 {"create":{"_index":"i","_id":"2","status":409,"error":{"type":"version_conflict_engine_exception","reason":"doc exists"}}},
 {"create":{"_index":"i","_id":"3","status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [n]","caused_by":{"type":"illegal_argument_exception","reason":"bad long"}}}},
 {"create":{"_index":"i","_id":"4","status":429,"error":{"type":"es_rejected_execution_exception","reason":"queue full"}}},
 {"index":{"_index":"i","_id":"5","status":503,"error":{"type":"unavailable_shards_exception","reason":"primary not active"}}},
 {"index":{"_index":"i","status":404,"error":{"type":"index_not_found_exception","reason":"no such index"}}}]})";
  BulkResponseParser p;
  BulkResponse r;
  Status st = p.parse(body, 6, &r);
  ASSERT_TRUE(st.is_ok()) << st.message();
  ASSERT_TRUE(r.errors);
  ASSERT_EQ(r.items.size(), 6u);
  EXPECT_EQ(r.items[0].status, 201);
  EXPECT_EQ(r.items[0].reason, "");
  EXPECT_EQ(r.items[1].status, 409);
  EXPECT_EQ(r.items[2].reason,
            "mapper_parsing_exception: failed to parse field [n] (caused_by: "
            "illegal_argument_exception: bad long)");
  EXPECT_EQ(r.items[3].reason, "es_rejected_execution_exception: queue full");
  EXPECT_EQ(r.items[4].status, 503);
  EXPECT_EQ(r.items[5].status, 404);

  EXPECT_EQ(classify_item(201, true), ItemOutcome::kAcked);
  EXPECT_EQ(classify_item(200, false), ItemOutcome::kAcked);
  EXPECT_EQ(classify_item(409, true), ItemOutcome::kDuplicate);
  EXPECT_EQ(classify_item(409, false), ItemOutcome::kRetry);
  EXPECT_EQ(classify_item(400, true), ItemOutcome::kDeadLetter);
  EXPECT_EQ(classify_item(404, false), ItemOutcome::kDeadLetter);
  EXPECT_EQ(classify_item(429, true), ItemOutcome::kRetry);
  EXPECT_EQ(classify_item(503, true), ItemOutcome::kRetry);
}

TEST(BulkResponse, RejectsMalformedAndCountMismatch) {
  BulkResponseParser p;
  BulkResponse r;
  EXPECT_FALSE(p.parse("<html>", 1, &r).is_ok());
  EXPECT_FALSE(p.parse(R"({"items":[]})", 1, &r).is_ok());
  Status st = p.parse(R"({"errors":true,"items":[{"index":{"status":201}}]})", 2, &r);
  EXPECT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("1 items for 2 actions"), std::string::npos);
  EXPECT_FALSE(p.parse(R"({"errors":true,"items":[{"index":{}}]})", 1, &r).is_ok());
}

}  // namespace
}  // namespace logship::plugins::es
