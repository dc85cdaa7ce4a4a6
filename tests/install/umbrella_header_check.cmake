# Fails when a public header under include/streamstate/ is missing from the umbrella header
# streamstate.h (which the README says includes the whole public API). Headers under detail/
# are internal to other headers and not listed.
#   cmake -DSOURCE_DIR=<repo> -P umbrella_header_check.cmake
file(READ "${SOURCE_DIR}/include/streamstate/streamstate.h" umbrella)
file(GLOB headers RELATIVE "${SOURCE_DIR}/include" "${SOURCE_DIR}/include/streamstate/*.h")
set(missing)
foreach(header IN LISTS headers)
  if(header STREQUAL "streamstate/streamstate.h")
    continue()
  endif()
  string(FIND "${umbrella}" "#include \"${header}\"" at)
  if(at EQUAL -1)
    list(APPEND missing ${header})
  endif()
endforeach()
if(missing)
  message(FATAL_ERROR "streamstate.h does not include: ${missing}; add them to include/streamstate/streamstate.h")
endif()
