package dev.sift.model.engine;

import ai.djl.engine.Engine;

/** Child-JVM entry point for {@link TensorFlowNativesTest}: prepares natives, loads the engine. */
public final class PrepareNatives {

    private PrepareNatives() {}

    public static void main(String[] args) {
        TensorFlowNatives.prepare();
        System.out.println("TensorFlow " + Engine.getEngine("TensorFlow").getVersion());
    }
}
