# Checks moe_cuda_archs (cmake/MoeCudaArchs.cmake) without a compiler or a GPU:
#   cmake -P cmake/tests/cuda-archs.cmake
# "native" is resolved through a stand-in for nvidia-smi that prints the given compute capabilities.
include(${CMAKE_CURRENT_LIST_DIR}/../MoeCudaArchs.cmake)

set(fails 0)
function(expect input want)
  moe_cuda_archs(got ${input})
  if(NOT "${got}" STREQUAL "${want}")
    message(SEND_ERROR "moe_cuda_archs(${input}) = '${got}', expected '${want}'")
  endif()
endfunction()

expect("80;89;90a" "80;89;90a")
expect("80;90" "80;90a")
expect("90-real;90-virtual" "90a-real;90a-virtual")
expect("89;90a;90" "89;90a")
expect("100;120" "100;120")

set(fake "${CMAKE_CURRENT_BINARY_DIR}/fake-nvidia-smi.sh")
file(WRITE "${fake}" "#!/bin/sh\nprintf '9.0\\n8.9\\n'\n")
file(CHMOD "${fake}" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
set(MOE_NVIDIA_SMI "${fake}")
expect("native" "90a;89")
file(REMOVE "${fake}")
message(STATUS "moe_cuda_archs: all cases pass")
