# streamstate_set_warnings(target): the warning flags every streamstate target compiles with.
function(streamstate_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wold-style-cast -Wcast-align -Woverloaded-virtual
                                           -Wimplicit-fallthrough)
  if(STREAMSTATE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
