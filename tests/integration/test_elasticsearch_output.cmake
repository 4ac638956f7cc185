# A real OpenSearch node, started once per ctest run for integration.elasticsearch_output.
set(LOGSHIP_OPENSEARCH_RUN_DIR ${CMAKE_BINARY_DIR}/servers/opensearch)
add_test(NAME servers.opensearch.start
  COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/servers/opensearch.sh start)
add_test(NAME servers.opensearch.stop
  COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/servers/opensearch.sh stop)
set_tests_properties(servers.opensearch.start PROPERTIES
  FIXTURES_SETUP opensearch TIMEOUT 900 LABELS integration
  ENVIRONMENT "LOGSHIP_OPENSEARCH_DIR=${LOGSHIP_OPENSEARCH_RUN_DIR}")
set_tests_properties(servers.opensearch.stop PROPERTIES
  FIXTURES_CLEANUP opensearch TIMEOUT 120 LABELS integration
  ENVIRONMENT "LOGSHIP_OPENSEARCH_DIR=${LOGSHIP_OPENSEARCH_RUN_DIR}")
set_property(TEST integration.elasticsearch_output APPEND PROPERTY
  ENVIRONMENT "LOGSHIP_OPENSEARCH_DIR=${LOGSHIP_OPENSEARCH_RUN_DIR}")
set_tests_properties(integration.elasticsearch_output PROPERTIES FIXTURES_REQUIRED opensearch)
