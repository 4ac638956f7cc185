# A private, real Docker engine (Debian's docker.io), started once per ctest run for every
# integration.docker_engine_* test by scripts/servers/dockerd.sh, and stopped after them.
# Its run dir is under /tmp and short (dockerd and containerd put unix sockets in it), one per
# build tree so the release and sanitizer runs never share an engine.
string(MD5 LOGSHIP_BUILD_HASH "${CMAKE_BINARY_DIR}")
string(SUBSTRING "${LOGSHIP_BUILD_HASH}" 0 8 LOGSHIP_BUILD_HASH)
set(LOGSHIP_DOCKERD_DIR /tmp/logship-dockerd-${LOGSHIP_BUILD_HASH})
add_test(NAME servers.dockerd.start COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/servers/dockerd.sh start)
add_test(NAME servers.dockerd.stop COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/servers/dockerd.sh stop)
set_tests_properties(servers.dockerd.start PROPERTIES FIXTURES_SETUP dockerd TIMEOUT 300
  LABELS "integration;docker_engine" ENVIRONMENT "LOGSHIP_DOCKERD_DIR=${LOGSHIP_DOCKERD_DIR}")
set_tests_properties(servers.dockerd.stop PROPERTIES FIXTURES_CLEANUP dockerd TIMEOUT 120
  LABELS "integration;docker_engine" ENVIRONMENT "LOGSHIP_DOCKERD_DIR=${LOGSHIP_DOCKERD_DIR}")
foreach(test_file ${LOGSHIP_INTEGRATION_TESTS})
  get_filename_component(stem ${test_file} NAME_WE)
  if(stem MATCHES "^test_docker_engine")
    string(REGEX REPLACE "^test_" "" name ${stem})
    # One at a time on the engine: each test's timing (Docker's rotation against logship's
    # reading) stays its own, and the 2 CI cores are not shared by two container storms.
    set_tests_properties(integration.${name} PROPERTIES FIXTURES_REQUIRED dockerd
      RESOURCE_LOCK dockerd LABELS "integration;docker_engine")
    set_property(TEST integration.${name} APPEND PROPERTY ENVIRONMENT
      "LOGSHIP_DOCKERD_DIR=${LOGSHIP_DOCKERD_DIR}")
  endif()
endforeach()
