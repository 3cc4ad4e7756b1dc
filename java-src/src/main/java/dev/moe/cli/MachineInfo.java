package dev.moe.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import dev.moe.backend.BackendStatus;
import dev.moe.backend.Backends;

/** What the benchmark JSON says about the machine it ran on. */
final class MachineInfo {
    private MachineInfo() {}

    static Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cpu", cpuModel());
        m.put("logical_cpus", Runtime.getRuntime().availableProcessors());
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        m.put("java", System.getProperty("java.vm.name") + " " + Runtime.version());
        BackendStatus cpu = Backends.status(dev.moe.backend.Backend.CPU);
        if (cpu.usable()) {
            m.put("cpu_kernel", Backends.cpuKernelName());
        }
        m.put("cpu_backend", cpu.detail());
        m.put("cuda_backend", Backends.status(dev.moe.backend.Backend.CUDA).detail());
        return m;
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: fall through
        }
        return System.getProperty("os.arch");
    }
}
