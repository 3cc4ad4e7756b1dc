# moe_cuda_archs(OUT arch...): CMAKE_CUDA_ARCHITECTURES as the CUDA library must be built.
# The Hopper kernels (wgmma, TMA, setmaxnreg) exist only in arch-specific sm_90a code: built for plain
# sm_90 their bodies are a trap (the library would refuse them at run time, but never run them). So
# "90", "90-real" and "90-virtual" become 90a; "native" is resolved to the visible GPUs' compute
# capabilities through nvidia-smi (MOE_NVIDIA_SMI names another program; a machine without a GPU cannot
# resolve it and is told to name the architectures) and then rewritten the same way; "all" and
# "all-major" are refused, as they would build plain sm_90.
function(moe_cuda_archs out)
  set(expanded)
  foreach(arch IN LISTS ARGN)
    if(arch STREQUAL "native")
      if(NOT MOE_NVIDIA_SMI)
        set(MOE_NVIDIA_SMI nvidia-smi)
      endif()
      execute_process(COMMAND ${MOE_NVIDIA_SMI} --query-gpu=compute_cap --format=csv,noheader
                      OUTPUT_VARIABLE caps RESULT_VARIABLE rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
      if(NOT rc EQUAL 0 OR NOT caps MATCHES "^[0-9]")
        message(FATAL_ERROR "moe: CMAKE_CUDA_ARCHITECTURES=native needs a visible GPU (nvidia-smi gave no compute "
                            "capability); name the architectures instead, e.g. -DCMAKE_CUDA_ARCHITECTURES=\"80;89;90a\"")
      endif()
      string(REPLACE "\n" ";" caps "${caps}")
      foreach(cap IN LISTS caps)
        string(STRIP "${cap}" cap)
        string(REPLACE "." "" cap "${cap}")
        list(APPEND expanded "${cap}")
      endforeach()
    elseif(arch MATCHES "^all")
      message(FATAL_ERROR "moe: CMAKE_CUDA_ARCHITECTURES=${arch} would build Hopper as plain sm_90, whose wgmma "
                          "kernels are a trap; name the architectures instead, e.g. \"80;89;90a\"")
    else()
      list(APPEND expanded "${arch}")
    endif()
  endforeach()
  set(result)
  foreach(arch IN LISTS expanded)
    if(arch MATCHES "^90(-real|-virtual)?$")
      string(REGEX REPLACE "^90" "90a" hopper "${arch}")
      message(STATUS "moe: CUDA architecture ${arch} built as ${hopper} (the wgmma kernels need sm_90a)")
      set(arch "${hopper}")
    endif()
    list(APPEND result "${arch}")
  endforeach()
  list(REMOVE_DUPLICATES result)
  set(${out} "${result}" PARENT_SCOPE)
endfunction()
