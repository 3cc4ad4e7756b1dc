package dev.moe.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.markers.SeriesMarkers;

import dev.moe.sim.SimulationResult;
import dev.moe.sim.StepRecord;

/** One PNG with three panels: MaxVio over steps, bias trajectories, per-expert load heat map (layer 0). */
final class SimulationPlots {
    private static final int HEAT_BINS = 100;

    private SimulationPlots() {}

    /** {@return the PNG's bytes} */
    static byte[] png(SimulationResult r, String title) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<Chart<?, ?>> charts = List.of(maxVio(r, title), biasTrajectories(r), loadHeatMap(r));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BitmapEncoder.saveBitmap(charts, 3, 1, out, BitmapEncoder.BitmapFormat.PNG);
        return out.toByteArray();
    }

    private static XYChart maxVio(SimulationResult r, String title) {
        XYChart c = new XYChartBuilder().width(1000).height(350).title("MaxVio_batch: " + title).xAxisTitle("step")
                .yAxisTitle("MaxVio").build();
        double[] x = r.steps().stream().mapToDouble(StepRecord::step).toArray();
        double[] y = r.steps().stream().mapToDouble(StepRecord::maxVioBatch).toArray();
        c.addSeries("per step", x, y).setMarker(SeriesMarkers.NONE);
        c.addSeries("100-step mean", x, r.maxVioMovingAverage(100)).setMarker(SeriesMarkers.NONE);
        return c;
    }

    private static XYChart biasTrajectories(SimulationResult r) {
        XYChart c = new XYChartBuilder().width(1000).height(350).title("bias of layer 0 (the 4 most and 4 least loaded experts of step 0)")
                .xAxisTitle("step").yAxisTitle("bias").build();
        float[] first = r.loadHistory()[0];
        List<Integer> order = new ArrayList<>(IntStream.range(0, first.length).boxed().toList());
        order.sort(Comparator.comparingDouble(i -> -first[i]));
        List<Integer> chosen = new ArrayList<>(order.subList(0, Math.min(4, order.size())));
        for (int i = Math.max(4, order.size() - 4); i < order.size(); i++) {
            chosen.add(order.get(i));
        }
        double[] x = IntStream.range(0, r.biasHistory().length).asDoubleStream().toArray();
        for (int e : chosen) {
            double[] y = new double[x.length];
            for (int s = 0; s < x.length; s++) {
                y[s] = r.biasHistory()[s][e];
            }
            XYSeries series = c.addSeries("expert " + e, x, y);
            series.setMarker(SeriesMarkers.NONE);
        }
        return c;
    }

    private static HeatMapChart loadHeatMap(SimulationResult r) {
        float[][] load = r.loadHistory();
        int steps = load.length;
        int n = load[0].length;
        int bins = Math.min(HEAT_BINS, steps);
        int[] xs = IntStream.range(0, bins).map(b -> (int) ((long) b * steps / bins)).toArray();
        int[] ys = IntStream.range(0, n).toArray();
        int[][] heat = new int[bins][n];
        for (int b = 0; b < bins; b++) {
            int from = (int) ((long) b * steps / bins);
            int to = (int) ((long) (b + 1) * steps / bins);
            for (int e = 0; e < n; e++) {
                double acc = 0;
                for (int s = from; s < to; s++) {
                    acc += load[s][e];
                }
                heat[b][e] = (int) Math.round(100 * acc / (to - from));
            }
        }
        HeatMapChart c = new HeatMapChartBuilder().width(1000).height(450)
                .title("relative expert load of layer 0, % of the balanced load (x: step, y: expert)").build();
        c.getStyler().setShowValue(false);
        c.getStyler().setYAxisTicksVisible(false);  // 256 expert labels would be unreadable
        c.addSeries("load", xs, ys, heat);
        return c;
    }
}
