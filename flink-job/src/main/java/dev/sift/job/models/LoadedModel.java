package dev.sift.job.models;

import dev.sift.model.encode.Encoder;
import dev.sift.model.encode.PassCost;
import dev.sift.model.encode.SharedEncoders;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.tokenize.BertTokenizer;

/**
 * A model version ready to serve: its verified bundle, a lease on the JVM's shared encoder for its
 * content hash, and a tokenizer at its truncation length. Closing it gives the lease back.
 */
public final class LoadedModel implements AutoCloseable {

    private final ModelBundle bundle;
    private final SharedEncoders.Lease encoder;
    private final BertTokenizer tokenizer;

    LoadedModel(ModelBundle bundle, SharedEncoders.Lease encoder, BertTokenizer tokenizer) {
        this.bundle = bundle;
        this.encoder = encoder;
        this.tokenizer = tokenizer;
    }

    public ModelBundle bundle() {
        return bundle;
    }

    public String name() {
        return bundle.name();
    }

    public long version() {
        return bundle.version();
    }

    public Encoder encoder() {
        return encoder.encoder();
    }

    /** What a pass of its encoder costs on this machine, measured when the encoder loaded. */
    public PassCost passCost() {
        return encoder.passCost();
    }

    public BertTokenizer tokenizer() {
        return tokenizer;
    }

    /** Models that tokenize alike and share an encoder pass have equal keys. */
    public String encoderKey() {
        return bundle.manifest().encoder().contentHash() + "/" + bundle.manifest().maxSeqLen();
    }

    @Override
    public void close() {
        tokenizer.close();
        encoder.close();
    }

    @Override
    public String toString() {
        return bundle.toString();
    }
}
