package dev.moe.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.markers.SeriesMarkers;

import dev.moe.train.TrainRecord;

/** One PNG with three panels: train and held-out loss, MaxVio, and layer 0's bias paths (loss-free). */
final class TrainPlots {
    private TrainPlots() {}

    static byte[] png(List<TrainRecord> rows, String title) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<Chart<?, ?>> charts = List.of(loss(rows, title), maxVio(rows), bias(rows));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BitmapEncoder.saveBitmap(charts, 3, 1, out, BitmapEncoder.BitmapFormat.PNG);
        return out.toByteArray();
    }

    private static XYChart chart(String title, String y) {
        return new XYChartBuilder().width(1000).height(330).title(title).xAxisTitle("step").yAxisTitle(y).build();
    }

    private static XYChart loss(List<TrainRecord> rows, String title) {
        XYChart c = chart("loss: " + title, "nats per byte");
        c.addSeries("train", rows.stream().mapToDouble(TrainRecord::step).toArray(),
                rows.stream().mapToDouble(TrainRecord::trainLoss).toArray()).setMarker(SeriesMarkers.NONE);
        List<TrainRecord> evals = rows.stream().filter(TrainRecord::evaluated).toList();
        if (!evals.isEmpty()) {
            c.addSeries("held-out", evals.stream().mapToDouble(TrainRecord::step).toArray(),
                    evals.stream().mapToDouble(TrainRecord::valLoss).toArray());
        }
        return c;
    }

    private static XYChart maxVio(List<TrainRecord> rows) {
        XYChart c = chart("MaxVio (mean over layers)", "MaxVio");
        c.addSeries("batch", rows.stream().mapToDouble(TrainRecord::step).toArray(),
                rows.stream().mapToDouble(TrainRecord::maxVioBatch).toArray()).setMarker(SeriesMarkers.NONE);
        List<TrainRecord> evals = rows.stream().filter(TrainRecord::evaluated).toList();
        if (!evals.isEmpty()) {
            c.addSeries("held-out (global)", evals.stream().mapToDouble(TrainRecord::step).toArray(),
                    evals.stream().mapToDouble(TrainRecord::maxVioGlobal).toArray());
        }
        return c;
    }

    private static XYChart bias(List<TrainRecord> rows) {
        XYChart c = chart("selection bias of layer 0 per expert (loss-free only)", "bias");
        double[] x = rows.stream().mapToDouble(TrainRecord::step).toArray();
        float[] first = rows.get(0).bias();
        if (first == null) {
            c.addSeries("no bias (balancer is not loss-free)", new double[] {x[0], x[x.length - 1]}, new double[] {0, 0})
                    .setMarker(SeriesMarkers.NONE);
            return c;
        }
        for (int e = 0; e < first.length; e++) {
            double[] y = new double[rows.size()];
            for (int s = 0; s < y.length; s++) {
                y[s] = rows.get(s).bias()[e];
            }
            c.addSeries("expert " + e, x, y).setMarker(SeriesMarkers.NONE);
        }
        c.getStyler().setLegendVisible(first.length <= 16);
        return c;
    }
}
