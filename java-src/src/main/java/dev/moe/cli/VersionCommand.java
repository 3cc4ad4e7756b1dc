package dev.moe.cli;

import java.util.concurrent.Callable;

import dev.moe.backend.BackendStatus;
import dev.moe.backend.Backends;
import dev.moe.nativelib.MoeNative;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code moe version}: library and ABI versions, and which backends are usable here (and why not). */
@Command(name = "version", mixinStandardHelpOptions = true,
        description = "Print library and ABI versions and, for each backend, whether it is usable and why not.")
final class VersionCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    static String libraryVersion() {
        String v = VersionCommand.class.getPackage().getImplementationVersion();
        return v != null ? v : "0.1.0-SNAPSHOT";
    }

    @Override
    public Integer call() {
        var out = spec.commandLine().getOut();
        out.println("moe " + libraryVersion());
        out.println("C ABI version (bindings): " + MoeNative.abiVersion());
        out.println("java: " + System.getProperty("java.vm.name") + " " + Runtime.version());
        for (BackendStatus s : Backends.all()) {
            out.printf("backend %-5s %-9s %s%n", s.backend().cliName(), s.usable() ? "usable" : "unusable", s.detail());
        }
        out.flush();
        return 0;
    }

    /** Answers {@code moe --version}. */
    static final class Provider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"moe " + libraryVersion() + " (C ABI " + MoeNative.abiVersion() + ")"};
        }
    }
}
