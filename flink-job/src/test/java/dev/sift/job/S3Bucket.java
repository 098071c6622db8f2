package dev.sift.job;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.fs.FileSystem;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;

/**
 * A real S3 server in this JVM (S3Proxy on jclouds' in-memory blob store, listening on 127.0.0.1)
 * with one bucket, and Flink's filesystems initialized so that {@code s3://} reaches it through
 * Flink's S3 filesystem ({@code flink-s3-fs-hadoop}), as a TaskManager with the plugin would.
 * Closing it stops the server and resets Flink's filesystems.
 */
public final class S3Bucket implements AutoCloseable {

    private static final String ACCESS_KEY = "sift-test";
    private static final String SECRET_KEY = "sift-test-secret";

    private final String bucket;
    private final BlobStoreContext context;
    private final S3Proxy proxy;

    private S3Bucket(String bucket, BlobStoreContext context, S3Proxy proxy) {
        this.bucket = bucket;
        this.context = context;
        this.proxy = proxy;
    }

    public static S3Bucket start(String bucket) throws Exception {
        // Flink's S3 filesystem uses AWS SDK 1, which otherwise logs a deprecation stack trace.
        System.setProperty("aws.java.v1.disableDeprecationAnnouncement", "true");
        BlobStoreContext context =
                ContextBuilder.newBuilder("transient")
                        .credentials(ACCESS_KEY, SECRET_KEY)
                        .build(BlobStoreContext.class);
        context.getBlobStore().createContainerInLocation(null, bucket);
        S3Proxy proxy =
                S3Proxy.builder()
                        .blobStore(context.getBlobStore())
                        .endpoint(URI.create("http://127.0.0.1:0"))
                        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                        .build();
        proxy.start();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!"STARTED".equals(proxy.getState())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("S3Proxy did not start: " + proxy.getState());
            }
            Thread.sleep(10);
        }
        FileSystem.initialize(
                Configuration.fromMap(
                        Map.of(
                                "s3.endpoint",
                                "http://127.0.0.1:" + proxy.getPort(),
                                "s3.path.style.access",
                                "true",
                                "s3.access-key",
                                ACCESS_KEY,
                                "s3.secret-key",
                                SECRET_KEY,
                                "s3.endpoint.region",
                                "us-east-1")),
                null);
        return new S3Bucket(bucket, context, proxy);
    }

    /** {@code s3://<bucket>/<key>}. */
    public URI uri(String key) {
        return URI.create("s3://" + bucket + "/" + key);
    }

    /** Uploads every file under {@code dir} to {@code prefix/<relative path>}. */
    public void upload(Path dir, String prefix) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                String relative = dir.relativize(file).toString().replace('\\', '/');
                put(prefix + "/" + relative, Files.readAllBytes(file));
            }
        }
    }

    /** Writes (or overwrites) one object. */
    public void put(String key, byte[] bytes) {
        BlobStore store = context.getBlobStore();
        store.putBlob(bucket, store.blobBuilder(key).payload(bytes).build());
    }

    @Override
    public void close() throws Exception {
        try {
            proxy.stop();
            context.close();
        } finally {
            FileSystem.initialize(new Configuration(), null);
        }
    }
}
