# The ecs documents are checked in the shared OpenSearch node of test_elasticsearch_output.cmake.
set_property(TEST integration.elasticsearch_ecs APPEND PROPERTY ENVIRONMENT
  "LOGSHIP_OPENSEARCH_DIR=${CMAKE_BINARY_DIR}/servers/opensearch")
set_tests_properties(integration.elasticsearch_ecs PROPERTIES FIXTURES_REQUIRED opensearch)
