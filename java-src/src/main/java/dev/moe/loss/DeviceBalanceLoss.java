package dev.moe.loss;

import dev.moe.routing.ScoreFunction;

/**
 * DeepSeek-V2 device-level balance loss (docs/specification.md §f.1). The N experts are split into D contiguous
 * equal groups E_1..E_D, one per device:
 * L_DevBal = α2 · Σ_d f'_d P'_d, f'_d = (1/|E_d|) Σ_{j∈E_d} f_j, P'_d = Σ_{j∈E_d} P_j,
 * with f_j and P_j those of {@link ExpertBalanceLoss}. ∂L/∂s_{j,t} = α2 f'_{d(j)} / T.
 */
public final class DeviceBalanceLoss extends MeanScoreLoss {
    private final int numDevices;

    /**
     * A device-level balance loss.
     *
     * @param alpha2        the coefficient α2, finite and &ge; 0
     * @param numDevices    D; N must be a multiple of it (checked when computing)
     * @param scoreFunction how logits become scores
     * @throws IllegalArgumentException if α2 is negative or not finite, or D &lt; 1
     */
    public DeviceBalanceLoss(double alpha2, int numDevices, ScoreFunction scoreFunction) {
        super(alpha2, scoreFunction, false);
        if (numDevices < 1) {
            throw new IllegalArgumentException("number of devices D must be >= 1, got " + numDevices);
        }
        this.numDevices = numDevices;
    }

    /**
     * DeepSeek-V2: α2 = 0.05, softmax, D devices.
     *
     * @param numDevices D
     * @return the loss
     */
    public static DeviceBalanceLoss deepseekV2(int numDevices) {
        return new DeviceBalanceLoss(AuxLossCoefficients.V2_DEVICE, numDevices, ScoreFunction.SOFTMAX);
    }

    /** {@return D, the number of devices} */
    public int numDevices() {
        return numDevices;
    }

    /**
     * f'_d, the mean of f_j over the experts of device d.
     *
     * @param selection  what the T tokens selected
     * @param numDevices D, dividing N
     * @return double [D]; all zero when T = 0
     * @throws IllegalArgumentException if D does not divide N
     */
    public static double[] deviceFractions(ExpertSelection selection, int numDevices) {
        int size = deviceSize(selection.numExperts(), numDevices);
        double[] f = selection.expertFractions();
        double[] fd = new double[numDevices];
        for (int j = 0; j < f.length; j++) {
            fd[j / size] += f[j];
        }
        for (int d = 0; d < numDevices; d++) {
            fd[d] /= size;
        }
        return fd;
    }

    @Override
    double[] coefficients(ExpertSelection selection) {
        return perExpert(alpha, deviceFractions(selection, numDevices), selection.numExperts());
    }

    @Override
    public String toString() {
        return "DeviceBalanceLoss[alpha2=" + alpha + ", D=" + numDevices + ", score=" + scoreFunction.cliName() + "]";
    }
}
