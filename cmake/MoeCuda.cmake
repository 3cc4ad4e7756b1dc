# Optional CUDA library. MOE_CUDA: AUTO (build when nvcc is found), ON (required), OFF.
# CMAKE_CUDA_ARCHITECTURES must be explicit ("native" fails on a machine without a GPU); cudart is
# linked statically so the library needs only the driver at run time.
# A macro, not a function: enable_language() must run at directory scope.
include(MoeCudaArchs)
set(MOE_CMAKE_DIR "${CMAKE_CURRENT_LIST_DIR}")
option(MOE_CUDA_KERNEL_CHECK "Fail the build when a CUDA kernel uses local memory or the sm_90a code lacks the Hopper instructions" ON)
option(MOE_CUDA_DEBUG_WAITS "Bound every mbarrier wait of the Hopper kernels (~2 s), reporting the waiter before a trap" OFF)
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
  moe_cuda_archs(CMAKE_CUDA_ARCHITECTURES ${CMAKE_CUDA_ARCHITECTURES})
  set(CMAKE_CUDA_ARCHITECTURES "${CMAKE_CUDA_ARCHITECTURES}" CACHE STRING "CUDA architectures (90 and native become 90a)" FORCE)
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
  if(MOE_CUDA_DEBUG_WAITS)
    target_compile_definitions(moe_cuda PRIVATE MOE_CUDA_DEBUG_WAITS=1)
    message(STATUS "moe: CUDA mbarrier waits bounded (MOE_CUDA_DEBUG_WAITS): a hang traps after ~2 s with its waiter printed")
  endif()
  if(MOE_CUDA_KERNEL_CHECK)
    moe_cuda_kernel_check(${ARGN})
  endif()
  install(TARGETS moe_cuda LIBRARY DESTINATION ${MOE_NATIVE_DIR})
  moe_install_checksum(libmoe_cuda.so)
  message(STATUS "moe: building the CUDA library for architectures ${CMAKE_CUDA_ARCHITECTURES}")
  endif()
  endif()
endmacro()

# The kernel check (cmake/MoeCheckKernels.cmake) after every build of moe_cuda: ptxas's resource report
# of each object, kept by the compiler launcher, and, when sm_90a is built, the PTX of the Hopper sources.
function(moe_cuda_kernel_check)
  set_target_properties(moe_cuda PROPERTIES CUDA_COMPILER_LAUNCHER "${MOE_CMAKE_DIR}/nvcc-ptxas-log.sh")
  target_compile_options(moe_cuda PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-Xptxas=-v>)
  set(ptx_dir "${CMAKE_CURRENT_BINARY_DIR}/moe_cuda_sm90a_ptx")
  set(ptx_files)
  set(check_args -DLOG_DIR=${CMAKE_CURRENT_BINARY_DIR}/CMakeFiles/moe_cuda.dir)
  if(MOE_CUDA_DEBUG_WAITS)
    list(APPEND check_args -DSKIP_LOCAL=ON)  # the timed-out wait's printf needs a stack frame
  endif()
  if(CMAKE_CUDA_ARCHITECTURES MATCHES "(^|;)90a")
    file(GLOB headers "${CMAKE_CURRENT_SOURCE_DIR}/src/shared/*.cuh" "${CMAKE_CURRENT_SOURCE_DIR}/src/cuda/*.cuh")
    foreach(name fp8_gemm_wgmma fp8_gemm_wgmma_tma hopper)
      add_custom_command(OUTPUT "${ptx_dir}/${name}.ptx"
        COMMAND ${CMAKE_COMMAND} -E make_directory "${ptx_dir}"
        COMMAND ${CMAKE_CUDA_COMPILER} -std=c++17 -O3 --fmad=false -I${MOE_INCLUDE_DIR} -arch=compute_90a -ptx
                "${CMAKE_CURRENT_SOURCE_DIR}/src/cuda/${name}.cu" -o "${ptx_dir}/${name}.ptx"
        DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/src/cuda/${name}.cu" ${headers}
        COMMENT "moe: sm_90a PTX of ${name}.cu for the kernel check")
      list(APPEND ptx_files "${ptx_dir}/${name}.ptx")
    endforeach()
    list(APPEND check_args -DPTX_DIR=${ptx_dir})
  endif()
  add_custom_target(moe_cuda_kernel_check ALL
    COMMAND ${CMAKE_COMMAND} ${check_args} -P "${MOE_CMAKE_DIR}/MoeCheckKernels.cmake"
    DEPENDS ${ptx_files}
    COMMENT "moe: CUDA kernel check (local memory, sm_90a instructions)")
  add_dependencies(moe_cuda_kernel_check moe_cuda)
endfunction()
