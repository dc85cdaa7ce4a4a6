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
