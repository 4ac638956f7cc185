# Real OpenSearch nodes, started once per ctest run for integration.elasticsearch_output: a
# normal one, and one with a tiny write thread pool and queue that rejects bulk items with 429.
set(LOGSHIP_OPENSEARCH_RUN_DIR ${CMAKE_BINARY_DIR}/servers/opensearch)
set(LOGSHIP_OPENSEARCH_TINY_DIR ${CMAKE_BINARY_DIR}/servers/opensearch-tiny)
foreach(node opensearch opensearch_tiny)
  if(node STREQUAL "opensearch")
    set(env "LOGSHIP_OPENSEARCH_DIR=${LOGSHIP_OPENSEARCH_RUN_DIR}")
  else()
    set(env "LOGSHIP_OPENSEARCH_DIR=${LOGSHIP_OPENSEARCH_TINY_DIR}"
            "LOGSHIP_OPENSEARCH_SETTINGS=thread_pool.write.size=1 thread_pool.write.queue_size=1")
  endif()
  add_test(NAME servers.${node}.start
    COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/servers/opensearch.sh start)
  add_test(NAME servers.${node}.stop
    COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/servers/opensearch.sh stop)
  set_tests_properties(servers.${node}.start PROPERTIES
    FIXTURES_SETUP ${node} TIMEOUT 900 LABELS integration ENVIRONMENT "${env}")
  set_tests_properties(servers.${node}.stop PROPERTIES
    FIXTURES_CLEANUP ${node} TIMEOUT 120 LABELS integration ENVIRONMENT "${env}")
endforeach()
set_property(TEST integration.elasticsearch_output APPEND PROPERTY ENVIRONMENT
  "LOGSHIP_OPENSEARCH_DIR=${LOGSHIP_OPENSEARCH_RUN_DIR}"
  "LOGSHIP_OPENSEARCH_TINY_DIR=${LOGSHIP_OPENSEARCH_TINY_DIR}")
set_tests_properties(integration.elasticsearch_output PROPERTIES
  FIXTURES_REQUIRED "opensearch;opensearch_tiny")
