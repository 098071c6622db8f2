package dev.sift.job.models;

import dev.sift.model.bundle.BundleException;
import dev.sift.model.encode.SharedEncoders;
import dev.sift.model.registry.ModelBundle;
import dev.sift.model.registry.ModelRegistry;
import dev.sift.model.tokenize.BertTokenizer;
import dev.sift.schemas.AnnouncementSignatures;
import dev.sift.schemas.ModelAnnouncement;
import java.io.IOException;
import java.security.PublicKey;

/**
 * Checks announcements and loads the versions they name. The job's configured registry is the
 * source of truth: an announcement names a version and the SHA-256 of its manifest, and the bundle
 * found in the registry must match it. With a public key configured, unsigned or wrongly signed
 * announcements are refused.
 */
public final class ModelLoader {

    private final ModelRegistry registry;
    private final PublicKey announcementKey;

    public ModelLoader(ModelRegistry registry, PublicKey announcementKey) {
        this.registry = registry;
        this.announcementKey = announcementKey;
    }

    public ModelRegistry registry() {
        return registry;
    }

    /** Fast checks (signature, manifest hash, file hashes, shapes); no encoder is loaded. */
    public ModelBundle verify(ModelAnnouncement announcement) throws IOException {
        if (announcementKey != null
                && !AnnouncementSignatures.verify(announcement, announcementKey)) {
            throw new BundleException(
                    announcement.getName()
                            + " v"
                            + announcement.getVersion()
                            + ": the announcement's signature does not verify with the"
                            + " configured public key");
        }
        return registry.open(announcement.getName(), announcement.getVersion())
                .requireManifestSha256(announcement.getManifestSha256());
    }

    /** Opens a version straight from the registry (restore, start-up). */
    public ModelBundle verify(String name, long version, String manifestSha256) throws IOException {
        ModelBundle bundle = registry.open(name, version);
        return manifestSha256 == null ? bundle : bundle.requireManifestSha256(manifestSha256);
    }

    /** Slow part: acquires the shared encoder (verifying and loading it the first time). */
    public LoadedModel load(ModelBundle bundle) throws IOException {
        var encoder = registry.encoder(bundle.manifest().encoder().contentHash());
        SharedEncoders.Lease lease = SharedEncoders.acquire(encoder);
        try {
            BertTokenizer tokenizer =
                    BertTokenizer.load(encoder.tokenizerFile(), bundle.manifest().maxSeqLen());
            return new LoadedModel(bundle, lease, tokenizer);
        } catch (IOException | RuntimeException e) {
            lease.close();
            throw e;
        }
    }
}
