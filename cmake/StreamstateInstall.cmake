# Installs headers, libraries and a CMake package so that other projects can
#   find_package(streamstate REQUIRED)
#   target_link_libraries(app PRIVATE streamstate::streamstate)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(DIRECTORY include/streamstate DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES "${PROJECT_BINARY_DIR}/include/streamstate/config.h" DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/streamstate)
install(TARGETS ${STREAMSTATE_INSTALLED_TARGETS} EXPORT streamstateTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT streamstateTargets NAMESPACE streamstate:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/streamstate)
configure_package_config_file(cmake/streamstateConfig.cmake.in "${PROJECT_BINARY_DIR}/streamstateConfig.cmake"
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/streamstate)
write_basic_package_version_file("${PROJECT_BINARY_DIR}/streamstateConfigVersion.cmake"
                                 COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/streamstateConfig.cmake" "${PROJECT_BINARY_DIR}/streamstateConfigVersion.cmake"
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/streamstate)

# Installed programs (streamstate-bench) find the libraries through a RUNPATH relative to their
# own directory ($ORIGIN/../lib with the default directories), so a prefix install runs without
# LD_LIBRARY_PATH wherever it is moved (CMAKE_INSTALL_RPATH is kept after it). The libraries' own
# RUNPATH is set in src/CMakeLists.txt.
file(RELATIVE_PATH streamstate_bin_to_lib "${CMAKE_INSTALL_FULL_BINDIR}" "${CMAKE_INSTALL_FULL_LIBDIR}")
function(streamstate_set_program_install_rpath directory)
  get_property(targets DIRECTORY "${directory}" PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "EXECUTABLE")
      set(install_rpath "$ORIGIN/${streamstate_bin_to_lib}" ${CMAKE_INSTALL_RPATH})
      set_target_properties(${target} PROPERTIES INSTALL_RPATH "${install_rpath}" INSTALL_RPATH_USE_LINK_PATH ON)
    endif()
  endforeach()
  get_property(subdirectories DIRECTORY "${directory}" PROPERTY SUBDIRECTORIES)
  foreach(subdirectory IN LISTS subdirectories)
    streamstate_set_program_install_rpath("${subdirectory}")
  endforeach()
endfunction()
streamstate_set_program_install_rpath("${PROJECT_SOURCE_DIR}")
