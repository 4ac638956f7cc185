# helm and tests/tools/k8s-validate, built from the Go module proxy once per machine (cached
# under ~/.cache/logship, one flock per tool) by a fixture that runs before integration.helm_chart.
# Cold: ~11 min for helm and ~3 min for the validator on 2 busy cores (bench/README.md).
add_test(NAME tools.k8s.build COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/servers/k8s-tools.sh build)
set_tests_properties(tools.k8s.build PROPERTIES FIXTURES_SETUP k8s_tools TIMEOUT 2400
  LABELS integration)
set_tests_properties(integration.helm_chart PROPERTIES FIXTURES_REQUIRED k8s_tools)
