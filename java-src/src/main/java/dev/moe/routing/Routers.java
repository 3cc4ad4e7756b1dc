package dev.moe.routing;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.moe.backend.Backend;
import dev.moe.backend.BackendStatus;
import dev.moe.backend.BackendUnavailableException;
import dev.moe.backend.Backends;

/** Creates routers for a backend; the only place that resolves {@link Backend#AUTO}. */
public final class Routers {
    private static final Logger LOG = LoggerFactory.getLogger(Routers.class);

    private Routers() {}

    /**
     * A router for {@code config} on {@code backend}. A backend named explicitly that cannot run here
     * throws {@link BackendUnavailableException}; only {@link Backend#AUTO} chooses (CUDA, else CPU,
     * else Java) and logs its choice at INFO.
     *
     * @param config  the routing configuration
     * @param backend the backend, or {@link Backend#AUTO}
     * @return a thread-safe router on the concrete backend (a CUDA router uses device 0)
     * @throws BackendUnavailableException if the concrete backend is not usable here
     */
    public static Router create(RoutingConfig config, Backend backend) {
        Backend concrete = backend == Backend.AUTO ? resolveAuto() : backend;
        BackendStatus status = Backends.status(concrete);
        if (!status.usable()) {
            throw new BackendUnavailableException(concrete, status.detail());
        }
        return switch (concrete) {
            case JAVA -> new ReferenceRouter(config);
            case CPU -> new NativeCpuRouter(config);
            case CUDA -> new NativeCudaRouter(config, 0);
            case AUTO -> throw new BackendUnavailableException(concrete, status.detail());
        };
    }

    /**
     * A router on CUDA device {@code device} ({@link #create} with CUDA uses device 0).
     *
     * @param config the routing configuration
     * @param device the CUDA device index, &ge; 0
     * @return a thread-safe router on that device
     * @throws BackendUnavailableException if no GPU is usable
     */
    public static Router cuda(RoutingConfig config, int device) {
        if (device < 0) {
            throw new IllegalArgumentException("CUDA device index must be >= 0, got " + device);
        }
        BackendStatus status = Backends.status(Backend.CUDA);
        if (!status.usable()) {
            throw new BackendUnavailableException(Backend.CUDA, status.detail());
        }
        return new NativeCudaRouter(config, device);
    }

    /**
     * The pure-Java reference router, available everywhere.
     *
     * @param config the routing configuration
     * @return a reference router for it
     */
    public static Router reference(RoutingConfig config) {
        return new ReferenceRouter(config);
    }

    /**
     * The backend AUTO stands for on this machine: CUDA if usable, else CPU, else JAVA. Logs the choice at INFO.
     *
     * @return a concrete backend
     */
    public static Backend resolveAuto() {
        for (Backend b : new Backend[] {Backend.CUDA, Backend.CPU}) {
            BackendStatus s = Backends.status(b);
            if (s.usable()) {
                LOG.info("backend auto picked {} ({})", b.cliName(), s.detail());
                return b;
            }
            LOG.debug("backend auto skipped {}: {}", b.cliName(), s.detail());
        }
        LOG.info("backend auto picked java (no native backend is usable)");
        return Backend.JAVA;
    }
}
