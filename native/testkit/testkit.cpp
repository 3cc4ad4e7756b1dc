// moe_testkit_abi_version (moe_testkit.h): the version the loader checks.
#include <cstdint>

#include "moe/moe.h"
#include "moe_testkit.h"

#pragma GCC visibility push(default)
extern "C" {

int32_t moe_testkit_abi_version(void) { return MOE_ABI_VERSION; }

}  // extern "C"
#pragma GCC visibility pop
