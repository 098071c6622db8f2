package dev.sift.trainer.train;

import java.util.List;
import java.util.Locale;

/**
 * Minimal SVG charts for the training report: line charts and a confusion-matrix heat map.
 *
 * <p>Written here rather than taken from a library, on purpose: the report is one self-contained
 * HTML file that opens offline, so a JavaScript chart library would have to be inlined (hundreds of
 * kilobytes per report) and none may be fetched at run time; XChart, the Java option, writes SVG
 * through VectorGraphics2D, two dependencies and an AWT graphics pipeline for two line charts and a
 * grid of coloured cells. Every label passes through {@link #escape}.
 */
final class Svg {

    record Series(String name, String color, double[] values) {}

    private static final int WIDTH = 460;
    private static final int HEIGHT = 260;
    private static final int MARGIN = 44;

    private Svg() {}

    static String lineChart(String title, String xLabel, List<Series> series) {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        int points = 0;
        for (Series s : series) {
            for (double v : s.values()) {
                if (Double.isFinite(v)) {
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
            }
            points = Math.max(points, s.values().length);
        }
        if (max - min < 1e-12) {
            max = min + 1;
        }
        StringBuilder svg = header(title);
        int plotW = WIDTH - 2 * MARGIN;
        int plotH = HEIGHT - 2 * MARGIN;
        svg.append(
                String.format(
                        Locale.ROOT,
                        "<rect x='%d' y='%d' width='%d' height='%d' fill='none' stroke='#999'/>",
                        MARGIN,
                        MARGIN,
                        plotW,
                        plotH));
        for (int t = 0; t <= 4; t++) {
            double value = min + (max - min) * t / 4;
            double y = MARGIN + plotH - plotH * t / 4.0;
            svg.append(
                    String.format(
                            Locale.ROOT,
                            "<text x='%d' y='%.1f' font-size='10' text-anchor='end'>%.3f</text>",
                            MARGIN - 4,
                            y + 3,
                            value));
        }
        svg.append(
                String.format(
                        Locale.ROOT,
                        "<text x='%d' y='%d' font-size='11' text-anchor='middle'>%s (1..%d)</text>",
                        WIDTH / 2,
                        HEIGHT - 8,
                        escape(xLabel),
                        points));
        int legend = 0;
        for (Series s : series) {
            StringBuilder path = new StringBuilder();
            double[] v = s.values();
            for (int i = 0; i < v.length; i++) {
                if (!Double.isFinite(v[i])) {
                    continue;
                }
                double x = MARGIN + (v.length == 1 ? plotW / 2.0 : plotW * i / (v.length - 1.0));
                double y = MARGIN + plotH - plotH * (v[i] - min) / (max - min);
                path.append(path.length() == 0 ? "M" : " L")
                        .append(String.format(Locale.ROOT, "%.1f %.1f", x, y));
            }
            svg.append("<path fill='none' stroke-width='2' stroke='")
                    .append(s.color())
                    .append("' d='")
                    .append(path)
                    .append("'/>");
            svg.append(
                    String.format(
                            Locale.ROOT,
                            "<text x='%d' y='%d' font-size='11' fill='%s'>%s</text>",
                            MARGIN + 8 + 110 * legend,
                            MARGIN + 14,
                            s.color(),
                            escape(s.name())));
            legend++;
        }
        return svg.append("</svg>").toString();
    }

    static String confusionMatrix(String title, List<String> labels, int[][] counts) {
        int k = labels.size();
        int cell = Math.min(60, (WIDTH - 2 * MARGIN) / k);
        int max = 1;
        for (int[] row : counts) {
            for (int c : row) {
                max = Math.max(max, c);
            }
        }
        StringBuilder svg = header(title);
        int left = MARGIN + 40;
        int top = MARGIN;
        for (int i = 0; i < k; i++) {
            svg.append(
                    String.format(
                            Locale.ROOT,
                            "<text x='%d' y='%d' font-size='11' text-anchor='end'>%s</text>",
                            left - 4,
                            top + cell * i + cell / 2 + 4,
                            escape(labels.get(i))));
            svg.append(
                    String.format(
                            Locale.ROOT,
                            "<text x='%d' y='%d' font-size='11' text-anchor='middle'>%s</text>",
                            left + cell * i + cell / 2,
                            top + cell * k + 14,
                            escape(labels.get(i))));
            for (int j = 0; j < k; j++) {
                double shade = (double) counts[i][j] / max;
                int blue = (int) Math.round(255 - 180 * shade);
                svg.append(
                        String.format(
                                Locale.ROOT,
                                "<rect x='%d' y='%d' width='%d' height='%d' fill='rgb(%d,%d,255)'"
                                        + " stroke='#fff'/>"
                                        + "<text x='%d' y='%d' font-size='12' text-anchor='middle'"
                                        + " fill='%s'>%d</text>",
                                left + cell * j,
                                top + cell * i,
                                cell,
                                cell,
                                blue,
                                blue,
                                left + cell * j + cell / 2,
                                top + cell * i + cell / 2 + 4,
                                shade > 0.6 ? "#fff" : "#000",
                                counts[i][j]));
            }
        }
        svg.append(
                String.format(
                        Locale.ROOT,
                        "<text x='%d' y='%d' font-size='11' text-anchor='middle'>predicted</text>"
                                + "<text x='12' y='%d' font-size='11' transform='rotate(-90 12 %d)'"
                                + " text-anchor='middle'>true</text>",
                        left + cell * k / 2,
                        top + cell * k + 30,
                        top + cell * k / 2,
                        top + cell * k / 2));
        return svg.append("</svg>").toString();
    }

    private static StringBuilder header(String title) {
        return new StringBuilder()
                .append(
                        String.format(
                                Locale.ROOT,
                                "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d'"
                                        + " font-family='sans-serif'><text x='%d' y='20'"
                                        + " font-size='14' text-anchor='middle'>%s</text>",
                                WIDTH,
                                HEIGHT,
                                WIDTH / 2,
                                escape(title)));
    }

    static String escape(String text) {
        return text.replace("&", "&amp;")
                .replace("<", "&lt;")
                .replace(">", "&gt;")
                .replace("'", "&#39;");
    }
}
