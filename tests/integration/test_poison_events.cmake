# integration.poison_events preloads a shim that makes fdatasync/fsync fail on chosen files.
add_library(logship_fault_shim SHARED ${CMAKE_CURRENT_LIST_DIR}/fault_shim.cpp)
target_link_libraries(logship_fault_shim PRIVATE ${CMAKE_DL_LIBS})
set_property(TEST integration.poison_events APPEND PROPERTY ENVIRONMENT
  "LOGSHIP_FAULT_SHIM=$<TARGET_FILE:logship_fault_shim>")
