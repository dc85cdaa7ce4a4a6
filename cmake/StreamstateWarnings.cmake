# streamstate_set_warnings(target): the warning flags every streamstate target compiles with.
function(streamstate_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wold-style-cast -Wcast-align -Woverloaded-virtual
                                           -Wimplicit-fallthrough)
  # GCC 12 reports -Wrestrict inside std::string's operator+ in optimized builds where nothing
  # overlaps (GCC bug 105329, fixed in GCC 13); it is noise, not a finding.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE $<$<CONFIG:Release,RelWithDebInfo,MinSizeRel>:-Wno-restrict>)
  endif()
  if(STREAMSTATE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
