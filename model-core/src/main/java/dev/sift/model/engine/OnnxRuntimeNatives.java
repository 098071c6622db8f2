package dev.sift.model.engine;

import ai.djl.engine.Engine;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

/**
 * Starts DJL's ONNX Runtime engine once per JVM, before anything else touches ONNX Runtime. Its
 * natives come in the {@code com.microsoft.onnxruntime:onnxruntime} jar, so nothing downloads.
 *
 * <p>Two things must happen in order. DJL creates ONNX Runtime's one environment itself, with
 * options, and fails if another caller created it first: so code that opens a session directly (the
 * importer) gets the environment from here. And DJL's engine borrows the default engine for array
 * operations it lacks; starting that (TensorFlow here) before {@link TensorFlowNatives} has
 * prepared it would make DJL download natives. Sift only creates arrays and reads them back, which
 * ONNX Runtime does itself, so the borrowing is turned off unless someone chose otherwise.
 */
public final class OnnxRuntimeNatives {

    /** DJL's name for the engine. */
    public static final String ENGINE = "OnnxRuntime";

    private static final String DISABLE_ALTERNATIVE = "ai.djl.onnx.disable_alternative";

    private OnnxRuntimeNatives() {}

    /** Starts the engine if it has not started; idempotent and thread-safe. */
    public static synchronized void prepare() {
        if (System.getProperty(DISABLE_ALTERNATIVE) == null) {
            System.setProperty(DISABLE_ALTERNATIVE, "true");
        }
        Engine.getEngine(ENGINE);
    }

    /** ONNX Runtime's environment, the one DJL's engine created. */
    public static OrtEnvironment environment() {
        prepare();
        return OrtEnvironment.getEnvironment();
    }

    /**
     * How Sift opens every ONNX Runtime session: every graph optimization on, one pass spread over
     * {@code intraOpThreads}, passes not run in parallel with each other inside a session. Both
     * pool sizes are set: DJL's own options apply the intra-op size only when the inter-op one is
     * given too.
     */
    public static OrtSession.SessionOptions sessionOptions(int intraOpThreads) throws OrtException {
        if (intraOpThreads < 1) {
            throw new IllegalArgumentException(
                    "intraOpThreads must be at least 1, not " + intraOpThreads);
        }
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        options.setIntraOpNumThreads(intraOpThreads);
        options.setInterOpNumThreads(1);
        return options;
    }
}
