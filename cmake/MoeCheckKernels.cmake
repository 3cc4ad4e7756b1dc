# The CUDA library's kernel check (MOE_CUDA_KERNEL_CHECK), run after the library is linked:
#   cmake -DLOG_DIR=<dir of *.ptxas.log> [-DPTX_DIR=<dir of the sm_90a *.ptx>] [-DSKIP_LOCAL=ON] -P MoeCheckKernels.cmake
# 1. Local memory: every function ptxas compiled (each kernel, each architecture) must have a zero stack
#    frame and no spills; an accumulator array that a loop indexes without full unrolling, or a register
#    cap that is too low, puts per-thread data in (slow, cached) local memory and fails the build.
# 2. Hopper code: the sm_90a PTX must hold the instructions the Hopper kernels are made of (a source
#    guard or architecture macro that silently compiles them out leaves a trap in their place), and the
#    image flag that hopper.cu reads at run time must be 1 there.
if(NOT LOG_DIR)
  message(FATAL_ERROR "MoeCheckKernels: pass -DLOG_DIR")
endif()
file(GLOB_RECURSE logs "${LOG_DIR}/*.ptxas.log")
if(NOT logs)
  message(FATAL_ERROR "moe kernel check: no *.ptxas.log under ${LOG_DIR} (was the library compiled with the launcher?)")
endif()
set(functions 0)
set(bad "")
set(archs "")
foreach(log IN LISTS logs)
  file(STRINGS "${log}" lines)
  set(arch "?")
  set(name "")
  foreach(line IN LISTS lines)
    if(line MATCHES "Compiling entry function '([^']+)' for '(sm_[0-9a-z]+)'")
      set(arch "${CMAKE_MATCH_2}")
      list(APPEND archs "${arch}")
    elseif(line MATCHES "Function properties for ([^ ]+)")
      set(name "${CMAKE_MATCH_1}")
    elseif(line MATCHES "([0-9]+) bytes stack frame, ([0-9]+) bytes spill stores, ([0-9]+) bytes spill loads")
      math(EXPR functions "${functions} + 1")
      if(NOT CMAKE_MATCH_1 EQUAL 0 OR NOT CMAKE_MATCH_2 EQUAL 0 OR NOT CMAKE_MATCH_3 EQUAL 0)
        string(APPEND bad "\n  ${arch} ${name}: ${CMAKE_MATCH_1} bytes stack frame, ${CMAKE_MATCH_2}/${CMAKE_MATCH_3} bytes spilled")
      endif()
    endif()
  endforeach()
endforeach()
list(REMOVE_DUPLICATES archs)
if(functions EQUAL 0)
  message(FATAL_ERROR "moe kernel check: no ptxas resource report in ${LOG_DIR} (is -Xptxas=-v passed?)")
endif()
if(bad AND SKIP_LOCAL)
  message(STATUS "moe kernel check: local memory allowed in this build (-DSKIP_LOCAL):${bad}")
elseif(bad)
  message(FATAL_ERROR "moe kernel check: kernels using local memory (fully unroll the loops over their "
                      "register arrays, or give ptxas more registers):${bad}")
endif()
if(NOT bad)
  message(STATUS "moe kernel check: ${functions} kernel images (${archs}) without local memory")
endif()

if(PTX_DIR)
  # file, then the instructions (regular expressions) its sm_90a PTX must hold
  set(required
      "fp8_gemm_wgmma.ptx|wgmma\\.mma_async\\.sync\\.aligned\\.m64n128k32\\.f32\\.e4m3\\.e4m3"
      "fp8_gemm_wgmma_tma.ptx|wgmma\\.mma_async\\.sync\\.aligned\\.m64n128k32\\.f32\\.e4m3\\.e4m3"
      "fp8_gemm_wgmma_tma.ptx|cp\\.async\\.bulk\\.tensor\\.2d"
      "fp8_gemm_wgmma_tma.ptx|setmaxnreg\\.inc\\.sync\\.aligned"
      "fp8_gemm_wgmma_tma.ptx|setmaxnreg\\.dec\\.sync\\.aligned"
      "fp8_gemm_wgmma_tma.ptx|mbarrier\\.try_wait\\.parity"
      "hopper.ptx|wgmma_image_flagE = 1")
  set(missing "")
  foreach(req IN LISTS required)
    string(REPLACE "|" ";" parts "${req}")
    list(GET parts 0 ptx)
    list(GET parts 1 pattern)
    if(NOT EXISTS "${PTX_DIR}/${ptx}")
      string(APPEND missing "\n  ${ptx}: not generated")
      continue()
    endif()
    file(READ "${PTX_DIR}/${ptx}" text)
    if(NOT text MATCHES "${pattern}")
      string(APPEND missing "\n  ${ptx}: no ${pattern}")
    endif()
  endforeach()
  if(missing)
    message(FATAL_ERROR "moe kernel check: the sm_90a code lacks Hopper instructions:${missing}")
  endif()
  message(STATUS "moe kernel check: the sm_90a PTX holds wgmma.mma_async, cp.async.bulk.tensor, setmaxnreg, mbarrier waits and the image flag")
endif()
