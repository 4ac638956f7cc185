# Starts its own OpenTelemetry Collector (scripts/servers/otelcol.sh, with an otlphttp exporter
# pointed at logship): the first build of the Collector takes about 10 minutes on 2 cores.
set_tests_properties(integration.otlp_input PROPERTIES TIMEOUT 2400)
set_property(TEST integration.otlp_input APPEND PROPERTY ENVIRONMENT
  "LOGSHIP_OTELCOL_SCRIPT=${CMAKE_SOURCE_DIR}/scripts/servers/otelcol.sh")
