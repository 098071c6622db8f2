package dev.sift.model.ngram;

import dev.sift.model.bundle.BundleException;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The on-disk form of an {@link NgramClassifier}, {@code ngrams.bin}. Big-endian ({@link
 * DataOutputStream}) throughout:
 *
 * <pre>
 * size          field
 * 8             magic, ASCII "SIFT_NGR"
 * 4             format version, int32 = 1
 * 4 · 2         shortest and longest n-gram, int32 (2 and 5: {@link CharNgramTfidf})
 * 4             labels of the model version (int32)
 * 4             classes the regression knows, c (int32)
 * 4 · c         each class's label index (int32)
 * 4             features, d (int32)
 * 8             the bias feature's value (float64)
 * per feature:
 *   2 + n       the n-gram (modified UTF-8, {@link DataOutputStream#writeUTF})
 *   8           its inverse document frequency (float64)
 * 8 · (d+1)·k   the regression's weights (float64), per feature, the bias last, k per feature:
 *               1 for two classes, c otherwise
 * </pre>
 *
 * Doubles, not floats, so that the job's probabilities are the trainer's to the last bit. {@link
 * #read} is strict: the parts must fit together, every value must be finite, and the file must end
 * right after the last weight.
 */
public final class NgramFormat {

    public static final String FILE_NAME = "ngrams.bin";
    public static final int VERSION = 1;
    private static final byte[] MAGIC = "SIFT_NGR".getBytes(StandardCharsets.US_ASCII);
    static final int MAX_LABELS = 65536;
    static final int MAX_FEATURES = 50_000_000;

    private NgramFormat() {}

    public static void write(NgramClassifier model, Path file) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            write(model, out);
        }
    }

    public static void write(NgramClassifier model, OutputStream stream) throws IOException {
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(stream, 1 << 16));
        CharNgramTfidf tfidf = model.tfidf();
        out.write(MAGIC);
        out.writeInt(VERSION);
        out.writeInt(CharNgramTfidf.MIN_N);
        out.writeInt(CharNgramTfidf.MAX_N);
        out.writeInt(model.labelCount());
        int[] classLabels = model.classLabels();
        out.writeInt(classLabels.length);
        for (int label : classLabels) {
            out.writeInt(label);
        }
        out.writeInt(tfidf.dimension());
        out.writeDouble(model.bias());
        for (int i = 0; i < tfidf.dimension(); i++) {
            out.writeUTF(tfidf.ngram(i));
            out.writeDouble(tfidf.idf(i));
        }
        for (double w : model.weights()) {
            out.writeDouble(w);
        }
        out.flush();
    }

    public static NgramClassifier read(Path file) throws IOException {
        try {
            return fromBytes(Files.readAllBytes(file));
        } catch (BundleException e) {
            throw new BundleException(file.getFileName() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads a model from its bytes. Every count is checked against the bytes left before anything
     * is allocated for it, so a file that claims millions of features cannot make the reader
     * allocate more than the file could hold.
     */
    public static NgramClassifier fromBytes(byte[] bytes) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
        try {
            byte[] magic = in.readNBytes(MAGIC.length);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new BundleException("is not an n-gram model (no SIFT_NGR magic)");
            }
            int version = in.readInt();
            if (version != VERSION) {
                throw new BundleException(
                        "n-gram format version "
                                + version
                                + " is not supported ("
                                + VERSION
                                + " is)");
            }
            int minN = in.readInt();
            int maxN = in.readInt();
            if (minN != CharNgramTfidf.MIN_N || maxN != CharNgramTfidf.MAX_N) {
                throw new BundleException(
                        "reads "
                                + minN
                                + "-"
                                + maxN
                                + "-grams; this build computes "
                                + CharNgramTfidf.MIN_N
                                + "-"
                                + CharNgramTfidf.MAX_N
                                + "-grams only");
            }
            int labels = bounded(in.readInt(), 2, MAX_LABELS, "labels");
            int classes = bounded(in.readInt(), 2, labels, "classes");
            requireLeft(in, 4L * classes, classes + " class labels");
            int[] classLabels = new int[classes];
            for (int c = 0; c < classes; c++) {
                classLabels[c] = in.readInt();
            }
            int features = bounded(in.readInt(), 0, MAX_FEATURES, "features");
            double bias = finite(in.readDouble(), "the bias value");
            // Each feature takes at least a 2-byte string length and an 8-byte idf.
            requireLeft(in, 10L * features, features + " features");
            String[] ngrams = new String[features];
            double[] idf = new double[features];
            for (int i = 0; i < features; i++) {
                ngrams[i] = in.readUTF();
                idf[i] = finite(in.readDouble(), "the idf of '" + ngrams[i] + "'");
            }
            long weightCount = (features + 1L) * NgramClassifier.columns(classes);
            requireLeft(in, 8L * weightCount, weightCount + " weights");
            double[] weights = new double[(int) weightCount];
            for (int i = 0; i < weights.length; i++) {
                weights[i] = finite(in.readDouble(), "weight " + i);
            }
            if (in.read() != -1) {
                throw new BundleException("has bytes after its last weight");
            }
            try {
                return new NgramClassifier(
                        new CharNgramTfidf(ngrams, idf), labels, classLabels, weights, bias);
            } catch (IllegalArgumentException e) {
                throw new BundleException(e.getMessage(), e);
            }
        } catch (EOFException e) {
            throw new BundleException("ends early (truncated file?)", e);
        }
    }

    private static void requireLeft(DataInputStream in, long needed, String what)
            throws IOException {
        int left = in.available(); // exact: the stream reads a byte array
        if (needed > left) {
            throw new BundleException(
                    "claims " + what + ", which need " + needed + " bytes; " + left + " are left");
        }
    }

    private static int bounded(int value, int min, int max, String what) throws BundleException {
        if (value < min || value > max) {
            throw new BundleException(what + " " + value + " is outside " + min + ".." + max);
        }
        return value;
    }

    private static double finite(double value, String what) throws BundleException {
        if (!Double.isFinite(value)) {
            throw new BundleException(what + " is " + value);
        }
        return value;
    }
}
