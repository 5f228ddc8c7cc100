# Compiler flags shared by every flare target.
set(FLARE_SANITIZE_FLAGS "")
if(FLARE_SANITIZE)
  set(FLARE_SANITIZE_FLAGS -fsanitize=${FLARE_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_compile_options(${FLARE_SANITIZE_FLAGS})
  add_link_options(${FLARE_SANITIZE_FLAGS})
endif()

function(flare_set_flags target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter>
    $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${FLARE_WERROR}>>:-Werror>
    $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<CONFIG:Release>>:-O3>
    $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${FLARE_NATIVE}>>:-march=native>
    $<$<COMPILE_LANGUAGE:CXX>:-fno-math-errno>)
endfunction()
