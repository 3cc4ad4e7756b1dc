package dev.moe.nativelib;

/**
 * The tests' native library {@code libmoe_testkit} (bindings: {@code dev.moe.bindings.moe_testkit_h}), loaded
 * through the one loader like the product libraries. It is on the test class path only (the bindings'
 * test classes and test jar), never in the release.
 */
public final class MoeTestkit {
    private MoeTestkit() {}

    /**
     * Loads the testkit once per process.
     *
     * @return the loaded library
     * @throws NativeLibraryException if it cannot be loaded or fails its ABI check
     */
    public static LoadedLibrary load() {
        return NativeLibraryLoader.load("moe_testkit");
    }
}
