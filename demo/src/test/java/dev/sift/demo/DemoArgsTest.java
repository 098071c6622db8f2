package dev.sift.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DemoArgsTest {

    @Test
    void theDefaultEncoderIsBgeSmallAndAnUnknownOneIsRefusedWithTheChoices() {
        assertThat(DemoArgs.parse().encoder()).isEqualTo("bge-small-en-v1.5-float32");
        assertThat(DemoArgs.parse("--encoder", "bert-base-uncased").encoder())
                .isEqualTo("bert-base-uncased");
        assertThatThrownBy(() -> DemoArgs.parse("--encoder", "bge-small"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(
                        "--encoder takes one of [bge-small-en-v1.5-float32, bert-base-uncased],"
                                + " not 'bge-small'");
    }
}
