# Flags shared by every native target.
#  -ffp-contract=off: no implicit a*b+c -> fma. The kernels reproduce the Java reference bit for bit,
#   so every fused multiply-add must be written explicitly (fmaf / _mm256_fmadd_ps), never inferred.
#  static libstdc++/libgcc: the library loads on hosts with an older C++ runtime (e.g. a GPU box);
#   --exclude-libs and the version script moe_exports.map keep everything but moe_* out of the exports.
set(MOE_EXPORTS_MAP ${CMAKE_CURRENT_LIST_DIR}/moe_exports.map)

function(moe_target_defaults target)
  target_compile_features(${target} PRIVATE cxx_std_17)
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF CXX_VISIBILITY_PRESET hidden
                                             VISIBILITY_INLINES_HIDDEN ON POSITION_INDEPENDENT_CODE ON)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wshadow -Wconversion -Wno-sign-conversion -ffp-contract=off -fno-math-errno>)
  target_link_options(${target} PRIVATE -static-libstdc++ -static-libgcc -Wl,--exclude-libs,ALL -Wl,--no-undefined
    -Wl,--version-script=${MOE_EXPORTS_MAP})
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${MOE_EXPORTS_MAP})
  if(MOE_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()

# Writes <library>.sha256 next to an installed library (the jar's copy is checked against it when the
# loader extracts it: dev.moe.nativelib.NativeLibraryLoader). The library is in the jar's native folder,
# or in the absolute folder given as second argument.
function(moe_install_checksum file)
  set(dir "\${CMAKE_INSTALL_PREFIX}/${MOE_NATIVE_DIR}")
  if(ARGC GREATER 1)
    set(dir "${ARGV1}")
  endif()
  install(CODE "
    set(lib \"${dir}/${file}\")
    file(SHA256 \"\${lib}\" sum)
    file(WRITE \"\${lib}.sha256\" \"\${sum}  ${file}\\n\")
  ")
endfunction()
