# Optional CUDA library. MOE_CUDA: AUTO (build when nvcc is found), ON (required), OFF.
# CMAKE_CUDA_ARCHITECTURES must be explicit ("native" fails on a machine without a GPU); cudart is
# linked statically so the library needs only the driver at run time.
# A macro, not a function: enable_language() must run at directory scope.
macro(moe_add_cuda_library)
  if(MOE_CUDA STREQUAL "OFF")
    message(STATUS "moe: CUDA library disabled (MOE_CUDA=OFF)")
  else()
  include(CheckLanguage)
  check_language(CUDA)
  if(NOT CMAKE_CUDA_COMPILER)
    if(MOE_CUDA STREQUAL "ON")
      message(FATAL_ERROR "moe: MOE_CUDA=ON but no CUDA compiler (nvcc) was found")
    endif()
    message(STATUS "moe: no CUDA compiler found, building the CPU library only")
  else()
  if(NOT CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES "80;89;90a")
  endif()
  enable_language(CUDA)
  add_library(moe_cuda SHARED ${ARGN})
  target_include_directories(moe_cuda PRIVATE ${MOE_INCLUDE_DIR})
  set_target_properties(moe_cuda PROPERTIES
    CUDA_RUNTIME_LIBRARY Static
    CUDA_ARCHITECTURES "${CMAKE_CUDA_ARCHITECTURES}"
    CUDA_STANDARD 17
    CXX_VISIBILITY_PRESET hidden
    CUDA_VISIBILITY_PRESET hidden
    POSITION_INDEPENDENT_CODE ON)
  target_compile_definitions(moe_cuda PRIVATE MOE_VERSION_STRING="${PROJECT_VERSION}")
  target_compile_options(moe_cuda PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:--fmad=false>)
  target_link_options(moe_cuda PRIVATE -Wl,--version-script=${MOE_EXPORTS_MAP})
  set_property(TARGET moe_cuda APPEND PROPERTY LINK_DEPENDS ${MOE_EXPORTS_MAP})
  install(TARGETS moe_cuda LIBRARY DESTINATION ${MOE_NATIVE_DIR})
  moe_install_checksum(libmoe_cuda.so)
  message(STATUS "moe: building the CUDA library for architectures ${CMAKE_CUDA_ARCHITECTURES}")
  endif()
  endif()
endmacro()
