# A real Apache Kafka broker (KRaft, single node) for integration.kafka_output, started once per
# ctest run by scripts/servers/kafka.sh. Without Maven Central the script falls back, loudly, to
# librdkafka's mock cluster served by kafka_mock_cluster.
add_executable(kafka_mock_cluster ${CMAKE_CURRENT_LIST_DIR}/kafka_mock_cluster.cpp)
target_link_libraries(kafka_mock_cluster PRIVATE logship_core)

set(LOGSHIP_KAFKA_STATE_DIR ${CMAKE_BINARY_DIR}/kafka-fixture)
add_test(NAME integration.kafka_output.broker_start
         COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/servers/kafka.sh start ${LOGSHIP_KAFKA_STATE_DIR})
set_tests_properties(integration.kafka_output.broker_start PROPERTIES
  FIXTURES_SETUP kafka LABELS integration TIMEOUT 900
  ENVIRONMENT "LOGSHIP_KAFKA_MOCK_BIN=$<TARGET_FILE:kafka_mock_cluster>")
add_test(NAME integration.kafka_output.broker_stop
         COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/servers/kafka.sh stop ${LOGSHIP_KAFKA_STATE_DIR})
set_tests_properties(integration.kafka_output.broker_stop PROPERTIES
  FIXTURES_CLEANUP kafka LABELS integration TIMEOUT 120)

set_tests_properties(integration.kafka_output PROPERTIES FIXTURES_REQUIRED kafka)
set_property(TEST integration.kafka_output APPEND PROPERTY ENVIRONMENT
  "LOGSHIP_KAFKA_STATE_DIR=${LOGSHIP_KAFKA_STATE_DIR}"
  "LOGSHIP_KAFKA_SCRIPT=${CMAKE_SOURCE_DIR}/scripts/servers/kafka.sh")
# Under TSan (LOGSHIP_SANITIZER=tsan) the test exits 77: ctest shows it as skipped, never passed.
set_tests_properties(integration.kafka_output PROPERTIES SKIP_RETURN_CODE 77)
