package dev.sift.model.bert;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorShapeProto;

/** How the importer finds the longest input a SavedModel reads, on hand-built graphs. */
class BertImporterTest {

    @Test
    void thePositionTableWinsOverEasyBertsPaddingLength() {
        MetaGraphDef graph = graph(variable("bert/embeddings/position_embeddings", 512, 768));

        assertThat(BertImporter.maxSeqLen(graph, 128)).isEqualTo(512);
    }

    @Test
    void withoutATableTheConfiguredLengthThen512Count() {
        MetaGraphDef graph = graph(variable("bert/embeddings/word_embeddings", 30522, 768));

        assertThat(BertImporter.maxSeqLen(graph, 128)).isEqualTo(128);
        assertThat(BertImporter.maxSeqLen(graph, 0)).isEqualTo(512);
    }

    private static MetaGraphDef graph(NodeDef... nodes) {
        GraphDef.Builder graph = GraphDef.newBuilder();
        graph.addNode(NodeDef.newBuilder().setName("input_ids").setOp("Placeholder"));
        for (NodeDef node : nodes) {
            graph.addNode(node);
        }
        return MetaGraphDef.newBuilder().setGraphDef(graph).build();
    }

    private static NodeDef variable(String name, long rows, long columns) {
        return NodeDef.newBuilder()
                .setName(name)
                .setOp("VariableV2")
                .putAttr("shape", AttrValue.newBuilder().setShape(shape(rows, columns)).build())
                .build();
    }

    private static TensorShapeProto shape(long... sizes) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long size : sizes) {
            shape.addDim(TensorShapeProto.Dim.newBuilder().setSize(size));
        }
        return shape.build();
    }
}
