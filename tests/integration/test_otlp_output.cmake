# A real OpenTelemetry Collector (OTLP/HTTP receiver -> file exporter), built once from the Go
# module proxy into ~/.cache/logship and started once per ctest run by scripts/servers/otelcol.sh
# for integration.otlp_output. The first build takes about 10 minutes on 2 cores (then cached).
set(LOGSHIP_OTELCOL_RUN_DIR ${CMAKE_BINARY_DIR}/servers/otelcol)
add_test(NAME servers.otelcol.start COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/servers/otelcol.sh start)
add_test(NAME servers.otelcol.stop COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/servers/otelcol.sh stop)
set_tests_properties(servers.otelcol.start PROPERTIES
  FIXTURES_SETUP otelcol TIMEOUT 2400 LABELS integration
  ENVIRONMENT "LOGSHIP_OTELCOL_DIR=${LOGSHIP_OTELCOL_RUN_DIR}")
set_tests_properties(servers.otelcol.stop PROPERTIES
  FIXTURES_CLEANUP otelcol TIMEOUT 120 LABELS integration
  ENVIRONMENT "LOGSHIP_OTELCOL_DIR=${LOGSHIP_OTELCOL_RUN_DIR}")
# The test kills and restarts the shared collector: nothing else may use it meanwhile.
set_tests_properties(integration.otlp_output PROPERTIES
  FIXTURES_REQUIRED otelcol RESOURCE_LOCK otelcol)
set_property(TEST integration.otlp_output APPEND PROPERTY ENVIRONMENT
  "LOGSHIP_OTELCOL_DIR=${LOGSHIP_OTELCOL_RUN_DIR}"
  "LOGSHIP_OTELCOL_SCRIPT=${CMAKE_SOURCE_DIR}/scripts/servers/otelcol.sh")
