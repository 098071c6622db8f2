package dev.sift.model.encode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import ai.djl.inference.Predictor;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import dev.sift.model.bundle.EncoderBundle;
import dev.sift.model.bundle.EncoderManifest;
import dev.sift.model.bundle.Pooling;
import dev.sift.model.testing.TinyBertEncoder;
import dev.sift.model.tokenize.BertTokenizer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Which predictor a pass runs on, with real TensorFlow predictors of the tiny encoder. A device
 * that allows concurrent passes is stood for by {@code concurrent = true}: the policy, not the
 * hardware, is under test here (a GPU is what turns it on, {@link
 * TensorFlowEncoder#allowsConcurrentPasses}).
 */
class PredictorsTest {

    private static ZooModel<EncodeRequest, EncodedBatch> zooModel;
    private static EncodeRequest request;

    @BeforeAll
    static void load() throws Exception {
        EncoderBundle bundle = TinyBertEncoder.bundle().verify();
        EncoderManifest manifest = bundle.manifest();
        zooModel =
                Criteria.builder()
                        .setTypes(EncodeRequest.class, EncodedBatch.class)
                        .optModelPath(bundle.savedModelDir())
                        .optEngine("TensorFlow")
                        .optDevice(Device.cpu())
                        .optOption("Tags", String.join(",", manifest.tags()))
                        .optOption("SignatureDefKey", manifest.signature())
                        .optTranslator(
                                new BertTranslator(manifest.tensors(), manifest.hiddenSize()))
                        .build()
                        .loadModel();
        try (BertTokenizer tokenizer =
                BertTokenizer.load(bundle.tokenizerFile(), TinyBertEncoder.MAX_SEQ_LEN)) {
            request =
                    new EncodeRequest(
                            PaddedBatch.of(List.of(tokenizer.encode("win cash now"))),
                            EnumSet.of(Pooling.CLS));
        }
    }

    @AfterAll
    static void close() {
        zooModel.close();
    }

    @Test
    void whereTheDeviceAllowsConcurrencyEachThreadRunsOnItsOwnPredictor() throws Exception {
        List<Tracked> made = Collections.synchronizedList(new ArrayList<>());
        Predictors<EncodeRequest, EncodedBatch> predictors =
                new Predictors<>(() -> track(made), true);

        List<float[]> vectors = passesFromTwoThreads(predictors);

        assertThat(predictors.openCount()).isEqualTo(2);
        assertThat(made).hasSize(2).allMatch(Tracked::isOpen);
        assertThat(vectors.get(0)).isEqualTo(vectors.get(1));

        predictors.close();

        assertThat(made).noneMatch(Tracked::isOpen);
        assertThat(predictors.openCount()).isZero();
        assertThatThrownBy(() -> predictors.predict(request))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }

    @Test
    void onTheCpuThreadsShareOnePredictor() throws Exception {
        List<Tracked> made = Collections.synchronizedList(new ArrayList<>());
        Predictors<EncodeRequest, EncodedBatch> predictors =
                new Predictors<>(() -> track(made), false);

        passesFromTwoThreads(predictors);

        assertThat(predictors.openCount()).isEqualTo(1);
        assertThat(made).hasSize(1);
        predictors.close();
        assertThat(made).noneMatch(Tracked::isOpen);
    }

    @Test
    void onlyAGpuAllowsConcurrentPasses() {
        assertThat(TensorFlowEncoder.allowsConcurrentPasses(Device.gpu(1))).isTrue();
        assertThat(TensorFlowEncoder.allowsConcurrentPasses(Device.cpu())).isFalse();
    }

    /** Two threads, two passes each, started together; the [CLS] vector each thread saw. */
    private static List<float[]> passesFromTwoThreads(
            Predictors<EncodeRequest, EncodedBatch> predictors) throws Exception {
        CyclicBarrier start = new CyclicBarrier(2);
        float[][] seen = new float[2][];
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            int slot = t;
            Thread thread =
                    new Thread(
                            () -> {
                                try {
                                    start.await();
                                    predictors.predict(request);
                                    seen[slot] = predictors.predict(request).vector(0, Pooling.CLS);
                                } catch (Throwable e) {
                                    failures.add(e);
                                }
                            });
            thread.start();
            threads.add(thread);
        }
        for (Thread thread : threads) {
            thread.join();
        }
        assertThat(failures).isEmpty();
        return List.of(seen);
    }

    private static Tracked track(List<Tracked> made) {
        Tracked predictor = new Tracked();
        made.add(predictor);
        return predictor;
    }

    /** DJL's own predictor, whose NDManager tells whether it was closed. */
    private static final class Tracked extends Predictor<EncodeRequest, EncodedBatch> {
        Tracked() {
            super(zooModel.getWrappedModel(), zooModel.getTranslator(), Device.cpu(), false);
        }

        boolean isOpen() {
            return manager.isOpen();
        }
    }
}
