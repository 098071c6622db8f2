package dev.sift.schemas;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;

/**
 * Ed25519 signatures over model announcements, so a job configured with the trainer's public key
 * loads only versions the trainer announced. The signed message is the UTF-8 of {@code
 * sift-announcement/2 \n name \n version \n action \n bundleUri \n manifestSha256 \n announcedAt}
 * (epoch milliseconds), followed by {@code \n canaryPercent} for a canary (the field is signed only
 * where set, so signatures made before it existed still verify). The time is signed so that it can
 * order announcements: a job refuses any announcement not newer than the last one it accepted for
 * that model, which makes a captured signed announcement useless to replay. The first line keeps
 * signatures of the first message format (which had no time) from verifying.
 *
 * <p>Keys are PEM files: PKCS#8 {@code PRIVATE KEY} and X.509 {@code PUBLIC KEY}, as {@code openssl
 * genpkey -algorithm ed25519} and {@code openssl pkey -pubout} write them.
 */
public final class AnnouncementSignatures {

    private static final String ALGORITHM = "Ed25519";
    private static final String FORMAT = "sift-announcement/2";

    private AnnouncementSignatures() {}

    public static byte[] message(ModelAnnouncement announcement) {
        String canonical =
                String.join(
                        "\n",
                        FORMAT,
                        announcement.getName(),
                        Long.toString(announcement.getVersion()),
                        announcement.getAction().name(),
                        announcement.getBundleUri(),
                        announcement.getManifestSha256(),
                        Long.toString(announcement.getAnnouncedAt().toEpochMilli()));
        if (announcement.getCanaryPercent() != null) {
            canonical += "\n" + Double.toString(announcement.getCanaryPercent());
        }
        return canonical.getBytes(StandardCharsets.UTF_8);
    }

    /** Returns a copy of {@code announcement} carrying its signature. */
    public static ModelAnnouncement sign(ModelAnnouncement announcement, PrivateKey key)
            throws GeneralSecurityException {
        Signature signer = Signature.getInstance(ALGORITHM);
        signer.initSign(key);
        signer.update(message(announcement));
        return ModelAnnouncement.newBuilder(announcement)
                .setSignature(ByteBuffer.wrap(signer.sign()))
                .build();
    }

    /** Whether the announcement carries a valid signature by {@code key}. */
    public static boolean verify(ModelAnnouncement announcement, PublicKey key) {
        ByteBuffer signature = announcement.getSignature();
        if (signature == null) {
            return false;
        }
        try {
            Signature verifier = Signature.getInstance(ALGORITHM);
            verifier.initVerify(key);
            verifier.update(message(announcement));
            byte[] bytes = new byte[signature.remaining()];
            signature.duplicate().get(bytes);
            return verifier.verify(bytes);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    public static KeyPair generateKeyPair() throws GeneralSecurityException {
        return KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
    }

    public static PrivateKey readPrivateKey(Path pem) throws IOException, GeneralSecurityException {
        return KeyFactory.getInstance(ALGORITHM)
                .generatePrivate(
                        new PKCS8EncodedKeySpec(
                                pemBody(
                                        Files.readString(pem, StandardCharsets.US_ASCII),
                                        pem.toString(),
                                        "PRIVATE KEY")));
    }

    public static PublicKey readPublicKey(Path pem) throws IOException, GeneralSecurityException {
        return publicKey(Files.readString(pem, StandardCharsets.US_ASCII), pem.toString());
    }

    /** Parses a {@code PUBLIC KEY} PEM text; {@code origin} names it in errors. */
    public static PublicKey publicKey(String pem, String origin)
            throws IOException, GeneralSecurityException {
        return KeyFactory.getInstance(ALGORITHM)
                .generatePublic(new X509EncodedKeySpec(pemBody(pem, origin, "PUBLIC KEY")));
    }

    public static void writePem(Path file, String type, byte[] der) throws IOException {
        String body =
                Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                        .encodeToString(der);
        Files.writeString(
                file, "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n");
    }

    private static byte[] pemBody(String text, String origin, String type) throws IOException {
        String begin = "-----BEGIN " + type + "-----";
        String end = "-----END " + type + "-----";
        int from = text.indexOf(begin);
        int to = text.indexOf(end);
        if (from < 0 || to < from) {
            throw new IOException(origin + " is not a PEM file holding a " + type);
        }
        return Base64.getMimeDecoder().decode(text.substring(from + begin.length(), to));
    }
}
