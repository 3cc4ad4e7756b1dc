# A library exports exactly the functions its header declares for it: after every link, the defined
# dynamic symbols (nm -D) are compared with the header's function declarations, and any difference
# fails the build. moe.h serves two libraries: PART CUDA takes its moe_cuda_* and *_cuda functions, CPU
# the others, ALL every function of the header.
#
# Used in two ways: include(MoeExports) defines moe_check_exports(); the POST_BUILD step runs this file
# as a script (cmake -P) with LIB, HEADER, PART and NM set.
if(CMAKE_SCRIPT_MODE_FILE)
  execute_process(COMMAND "${NM}" -D --defined-only "${LIB}" OUTPUT_VARIABLE nm_out RESULT_VARIABLE nm_rc)
  if(NOT nm_rc EQUAL 0)
    message(FATAL_ERROR "moe: ${NM} -D ${LIB} failed")
  endif()
  string(REGEX MATCHALL "[^\n]+" nm_lines "${nm_out}")
  set(exported "")
  foreach(line IN LISTS nm_lines)
    if(line MATCHES "^[0-9a-fA-F]* *[A-Za-z] ([^ ]+)$")
      list(APPEND exported "${CMAKE_MATCH_1}")
    endif()
  endforeach()
  file(STRINGS "${HEADER}" decls REGEX "^[a-z].*[ *]moe_[a-z0-9_]+\\(")
  set(declared "")
  foreach(d IN LISTS decls)
    string(REGEX MATCH "moe_[a-z0-9_]+\\(" name "${d}")
    string(REPLACE "(" "" name "${name}")
    set(cuda OFF)
    if(name MATCHES "^moe_cuda_" OR name MATCHES "_cuda$")
      set(cuda ON)
    endif()
    if(PART STREQUAL "ALL" OR (PART STREQUAL "CUDA" AND cuda) OR (PART STREQUAL "CPU" AND NOT cuda))
      list(APPEND declared "${name}")
    endif()
  endforeach()
  list(SORT exported)
  list(SORT declared)
  if(NOT exported STREQUAL declared)
    set(extra ${exported})
    list(REMOVE_ITEM extra ${declared})
    set(missing ${declared})
    list(REMOVE_ITEM missing ${exported})
    list(LENGTH extra n_extra)
    list(LENGTH missing n_missing)
    message(FATAL_ERROR "moe: ${LIB} exports ${n_extra} symbol(s) ${HEADER} does not declare and misses ${n_missing}"
                        "\n  extra: ${extra}\n  missing: ${missing}")
  endif()
  return()
endif()

function(moe_check_exports target header part)
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -DLIB=$<TARGET_FILE:${target}> -DHEADER=${header} -DPART=${part} -DNM=${CMAKE_NM}
            -P ${CMAKE_CURRENT_FUNCTION_LIST_FILE}
    COMMENT "Checking the exports of ${target} against ${header}"
    VERBATIM)
endfunction()
