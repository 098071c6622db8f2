package dev.sift.testing.kafka;

import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Stops {@link KafkaTestCluster#shared()} when a JUnit launcher session ends: after the last test,
 * while the JVM still runs normally, rather than in a shutdown hook (see {@link
 * KafkaTestCluster#closeShared()}). Registered in META-INF/services.
 */
public final class CloseSharedKafka implements LauncherSessionListener {

    @Override
    public void launcherSessionClosed(LauncherSession session) {
        KafkaTestCluster.closeShared();
    }
}
