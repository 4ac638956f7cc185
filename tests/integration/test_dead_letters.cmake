# Dead letters against the shared OpenSearch node of test_elasticsearch_output.cmake.
set_property(TEST integration.dead_letters APPEND PROPERTY ENVIRONMENT
  "LOGSHIP_OPENSEARCH_DIR=${CMAKE_BINARY_DIR}/servers/opensearch")
set_tests_properties(integration.dead_letters PROPERTIES FIXTURES_REQUIRED opensearch)
