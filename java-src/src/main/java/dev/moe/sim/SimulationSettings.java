package dev.moe.sim;

import java.util.Objects;

import dev.moe.backend.Backend;
import dev.moe.balance.BiasUpdateRule;
import dev.moe.routing.RoutingConfig;
import dev.moe.topology.GroupScope;
import dev.moe.topology.Topology;

/**
 * Everything one simulation run depends on; build it with {@link #builder}.
 *
 * @param config          router configuration (groups = nodes for node-limited, = GPUs for device-limited)
 * @param topology        cluster and expert placement
 * @param scope           whether router groups are nodes or devices
 * @param layers          MoE layers simulated (MaxVio is averaged over them)
 * @param steps           training steps
 * @param tokensPerStep   tokens in each step's global batch
 * @param workload        synthetic router workload
 * @param balancer        balancing method
 * @param gamma           bias update speed (loss-free)
 * @param rule            bias update rule (loss-free); its {@link BiasUpdateRule#mode()} must be the config's bias mode
 * @param alpha           auxiliary-loss coefficient (aux-loss)
 * @param auxLearningRate SGD learning rate of the aux-loss run's logit offsets (see {@link AuxLossTrainer})
 * @param capacityFactor  device-level capacity factor for token dropping (docs/specification.md §g.1); 0 = never drop
 * @param seed            seed of the workload
 * @param backend         routing backend
 * @param heldOutTokens   tokens of the held-out set used for MaxVio_global at the end
 */
public record SimulationSettings(RoutingConfig config, Topology topology, GroupScope scope, int layers, int steps,
                                 int tokensPerStep, Workload workload, BalancerKind balancer, float gamma, BiasUpdateRule rule,
                                 float alpha, float auxLearningRate, double capacityFactor, long seed, Backend backend,
                                 int heldOutTokens) {

    /** The default aux-loss learning rate: with α = 1e-3 a skewed workload balances within a few hundred steps. */
    public static final float DEFAULT_AUX_LEARNING_RATE = 1000f;

    /**
     * Validates the settings.
     *
     * @throws IllegalArgumentException if a count is below 1, γ, α, the learning rate or the capacity
     *         factor is negative or not finite, the groups do not match the topology for {@code scope},
     *         dropping is asked for but N does not split evenly over the GPUs, or (loss-free) the rule's
     *         bias mode differs from the configuration's
     */
    public SimulationSettings {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(topology, "topology");
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(workload, "workload");
        Objects.requireNonNull(balancer, "balancer");
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(backend, "backend");
        topology.requireGroupsMatch(config, scope);
        if (layers < 1 || steps < 1 || tokensPerStep < 1 || heldOutTokens < 1) {
            throw new IllegalArgumentException("layers, steps, tokens per step and held-out tokens must be >= 1");
        }
        if (!Float.isFinite(gamma) || gamma < 0) {
            throw new IllegalArgumentException("gamma must be finite and >= 0, got " + gamma);
        }
        if (!Float.isFinite(alpha) || alpha < 0) {
            throw new IllegalArgumentException("alpha must be finite and >= 0, got " + alpha);
        }
        if (!Float.isFinite(auxLearningRate) || auxLearningRate < 0) {
            throw new IllegalArgumentException("aux-loss learning rate must be finite and >= 0, got " + auxLearningRate);
        }
        if (!Double.isFinite(capacityFactor) || capacityFactor < 0) {
            throw new IllegalArgumentException("capacity factor must be finite and >= 0 (0 = never drop), got " + capacityFactor);
        }
        if (capacityFactor > 0 && config.numExperts() % topology.gpus() != 0) {
            throw new IllegalArgumentException("device-level dropping needs N=" + config.numExperts()
                    + " experts to split evenly over " + topology.gpus() + " GPUs");
        }
        if (balancer == BalancerKind.LOSS_FREE && rule.mode() != config.biasMode()) {
            throw new IllegalArgumentException("bias update rule '" + rule.cliName() + "' keeps a " + rule.mode().cliName()
                    + " bias, but the router combines the bias by " + config.biasMode().cliName());
        }
    }

    /** {@return whether assignments over a device's budget are dropped (capacity factor &gt; 0)} */
    public boolean drops() {
        return capacityFactor > 0;
    }

    /** {@return a builder for DeepSeek-V3 on 8 nodes x 8 GPUs, skewed workload, loss-free sign rule, γ 0.001} */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds {@link SimulationSettings}; see the record components for the meaning of each value. */
    public static final class Builder {
        private RoutingConfig config = RoutingConfig.deepseekV3();
        private Topology topology = Topology.contiguous(8, 8, 256);
        private GroupScope scope = GroupScope.NODE;
        private int layers = 1;
        private int steps = 2000;
        private int tokensPerStep = 8192;
        private Workload workload = Workload.SKEWED;
        private BalancerKind balancer = BalancerKind.LOSS_FREE;
        private float gamma = 0.001f;
        private BiasUpdateRule rule = BiasUpdateRule.SIGN;
        private float alpha = 0.0001f;
        private float auxLearningRate = DEFAULT_AUX_LEARNING_RATE;
        private double capacityFactor;
        private long seed = 1;
        private Backend backend = Backend.CPU;
        private int heldOutTokens = 16384;

        private Builder() {}

        /**
         * Router and cluster together: groups must be the topology's nodes or GPUs as {@code scope} says.
         *
         * @param c the routing configuration
         * @param t the cluster and expert placement
         * @param s whether router groups are nodes or devices
         * @return this builder
         */
        public Builder routing(RoutingConfig c, Topology t, GroupScope s) {
            this.config = c;
            this.topology = t;
            this.scope = s;
            return this;
        }

        /**
         * Sets the number of MoE layers simulated.
         *
         * @param v layers, &ge; 1
         * @return this builder
         */
        public Builder layers(int v) {
            this.layers = v;
            return this;
        }

        /**
         * Sets the number of training steps.
         *
         * @param v steps, &ge; 1
         * @return this builder
         */
        public Builder steps(int v) {
            this.steps = v;
            return this;
        }

        /**
         * Sets the tokens in each step's global batch.
         *
         * @param v tokens, &ge; 1 (and at least the number of ranks)
         * @return this builder
         */
        public Builder tokensPerStep(int v) {
            this.tokensPerStep = v;
            return this;
        }

        /**
         * Sets the synthetic workload.
         *
         * @param v the workload
         * @return this builder
         */
        public Builder workload(Workload v) {
            this.workload = v;
            return this;
        }

        /**
         * Sets the balancing method.
         *
         * @param v the balancer
         * @return this builder
         */
        public Builder balancer(BalancerKind v) {
            this.balancer = v;
            return this;
        }

        /**
         * Sets the bias update speed γ (loss-free).
         *
         * @param v γ, finite and &ge; 0
         * @return this builder
         */
        public Builder gamma(float v) {
            this.gamma = v;
            return this;
        }

        /**
         * Sets the update rule; {@link #build()} sets the router's bias mode to match it.
         *
         * @param v the bias update rule
         * @return this builder
         */
        public Builder rule(BiasUpdateRule v) {
            this.rule = v;
            return this;
        }

        /**
         * Sets the auxiliary-loss coefficient α (aux-loss).
         *
         * @param v α, finite and &ge; 0
         * @return this builder
         */
        public Builder alpha(float v) {
            this.alpha = v;
            return this;
        }

        /**
         * Sets the SGD learning rate of the aux-loss run's logit offsets.
         *
         * @param v the learning rate, finite and &ge; 0
         * @return this builder
         */
        public Builder auxLearningRate(float v) {
            this.auxLearningRate = v;
            return this;
        }

        /**
         * Sets the device-level capacity factor.
         *
         * @param v the factor, finite and &ge; 0; 0 (the default) never drops
         * @return this builder
         */
        public Builder capacityFactor(double v) {
            this.capacityFactor = v;
            return this;
        }

        /**
         * Sets the workload seed.
         *
         * @param v the seed
         * @return this builder
         */
        public Builder seed(long v) {
            this.seed = v;
            return this;
        }

        /**
         * Sets the routing backend (default CPU).
         *
         * @param v the backend
         * @return this builder
         */
        public Builder backend(Backend v) {
            this.backend = v;
            return this;
        }

        /**
         * Sets the size of the held-out token set used for MaxVio_global.
         *
         * @param v tokens, &ge; 1
         * @return this builder
         */
        public Builder heldOutTokens(int v) {
            this.heldOutTokens = v;
            return this;
        }

        /**
         * Builds the settings, with the configuration's bias mode set to the rule's.
         *
         * @return the settings
         * @throws IllegalArgumentException if the values are invalid (see the canonical constructor)
         */
        public SimulationSettings build() {
            RoutingConfig c = config.biasMode() == rule.mode() ? config : config.toBuilder().biasMode(rule.mode()).build();
            return new SimulationSettings(c, topology, scope, layers, steps, tokensPerStep, workload, balancer, gamma, rule,
                    alpha, auxLearningRate, capacityFactor, seed, backend, heldOutTokens);
        }
    }
}
