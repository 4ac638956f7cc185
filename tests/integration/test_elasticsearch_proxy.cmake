# The proxy and the signature-checking server run in front of the shared OpenSearch node of
# test_elasticsearch_output.cmake.
set_property(TEST integration.elasticsearch_proxy APPEND PROPERTY ENVIRONMENT
  "LOGSHIP_OPENSEARCH_DIR=${CMAKE_BINARY_DIR}/servers/opensearch")
set_tests_properties(integration.elasticsearch_proxy PROPERTIES FIXTURES_REQUIRED opensearch)
