package dev.moe.loss;

import java.util.Arrays;

import dev.moe.routing.ScoreFunction;

/**
 * DeepSeek-V2 communication balance loss (docs/specification.md §f.1). With the N experts split into D contiguous
 * equal groups E_1..E_D (one per device) and tokens sent to at most M devices:
 * L_CommBal = α3 · Σ_d f''_d P''_d, f''_d = D/(M·T) · Σ_t 1[token t is sent to device d],
 * P''_d = Σ_{j∈E_d} P_j. Device d receives token t when any expert token t selected lies in E_d.
 * ∂L/∂s_{j,t} = α3 f''_{d(j)} / T.
 */
public final class CommunicationBalanceLoss extends MeanScoreLoss {
    private final int numDevices;
    private final int devicesPerToken;

    /**
     * A communication balance loss.
     *
     * @param alpha3          the coefficient α3, finite and &ge; 0
     * @param numDevices      D; N must be a multiple of it (checked when computing)
     * @param devicesPerToken M, the device limit of the routing (1..D)
     * @param scoreFunction   how logits become scores
     * @throws IllegalArgumentException if an argument is out of range
     */
    public CommunicationBalanceLoss(double alpha3, int numDevices, int devicesPerToken, ScoreFunction scoreFunction) {
        super(alpha3, scoreFunction, false);
        if (numDevices < 1 || devicesPerToken < 1 || devicesPerToken > numDevices) {
            throw new IllegalArgumentException("need D >= 1 and 1 <= M <= D, got D=" + numDevices + ", M=" + devicesPerToken);
        }
        this.numDevices = numDevices;
        this.devicesPerToken = devicesPerToken;
    }

    /**
     * DeepSeek-V2: α3 = 0.02, softmax, D devices, M devices per token.
     *
     * @param numDevices      D
     * @param devicesPerToken M, 1..D
     * @return the loss
     */
    public static CommunicationBalanceLoss deepseekV2(int numDevices, int devicesPerToken) {
        return new CommunicationBalanceLoss(AuxLossCoefficients.V2_COMMUNICATION, numDevices, devicesPerToken,
                ScoreFunction.SOFTMAX);
    }

    /** {@return D, the number of devices} */
    public int numDevices() {
        return numDevices;
    }

    /** {@return M, the device limit per token} */
    public int devicesPerToken() {
        return devicesPerToken;
    }

    /**
     * f''_d = D/(M·T) · (tokens device d receives); a token counts once per device however many of
     * its experts are there.
     *
     * @param selection       what the T tokens selected
     * @param numDevices      D, dividing N
     * @param devicesPerToken M
     * @return double [D]; all zero when T = 0
     * @throws IllegalArgumentException if D does not divide N
     */
    public static double[] receiveFractions(ExpertSelection selection, int numDevices, int devicesPerToken) {
        int size = deviceSize(selection.numExperts(), numDevices);
        double[] f = new double[numDevices];
        int tokens = selection.tokens();
        if (tokens == 0) {
            return f;
        }
        boolean[] reached = new boolean[numDevices];
        long[] received = new long[numDevices];
        for (int t = 0; t < tokens; t++) {
            Arrays.fill(reached, false);
            for (int q = 0; q < selection.topk(); q++) {
                int e = selection.id(t, q);
                if (e >= 0 && !reached[e / size]) {
                    reached[e / size] = true;
                    received[e / size]++;
                }
            }
        }
        double scale = (double) numDevices / ((double) devicesPerToken * tokens);
        for (int d = 0; d < numDevices; d++) {
            f[d] = scale * received[d];
        }
        return f;
    }

    @Override
    double[] coefficients(ExpertSelection selection) {
        return perExpert(alpha, receiveFractions(selection, numDevices, devicesPerToken), selection.numExperts());
    }

    @Override
    public String toString() {
        return "CommunicationBalanceLoss[alpha3=" + alpha + ", D=" + numDevices + ", M=" + devicesPerToken + ", score="
                + scoreFunction.cliName() + "]";
    }
}
