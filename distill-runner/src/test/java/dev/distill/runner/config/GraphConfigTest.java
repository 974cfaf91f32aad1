package dev.distill.runner.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.models.spec.GraphSpec;
import dev.distill.models.spec.ModelSpec;
import dev.distill.runner.testing.CliRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Graph and zoo students in YAML: they load into specs with their costs, and a cycle, an unknown
 * input, add or concat inputs that do not fit, an unknown block type or zoo name, or a stage on a
 * graph student end in one line naming the file, the block's line and the block.
 */
class GraphConfigTest {

    @TempDir
    Path dir;

    /** A digits config whose student is {@code student}, indented under {@code models:}. */
    private static String config(String student) {
        return """
                name: graph
                data: {dataset: digits, path: '%s', classes: 10}
                models:
                  teacher:
                    layers: [{type: dense, units: 8}, {type: output}]
                  student:
                %s
                chains: [[teacher, student]]
                """.formatted(CliRun.repoFile("datasets/digits.csv.gz"), student.indent(4).stripTrailing());
    }

    private static final String GRAPH = """
            graph:
              - {name: stem, type: conv2d, filters: 8}
              - {name: res, type: residual, filters: 8, repeat: 2}
              - {name: gc, type: group_conv, filters: 8, groups: 2, shuffle: true}
              - {name: cat, type: concat, inputs: [stem, gc]}
              - {name: sep, type: separable, filters: 16, stride: 2, activation: relu6}
              - {name: db, type: dense_block, layers: 2, growth: 4}
              - {name: bn, type: bottleneck, filters: 8, reduce: 4}
              - {type: global_pool}
              - {type: output}
            """;

    private Path write(String yaml) throws IOException {
        Path file = dir.resolve("config.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    private String error(String yaml) throws IOException {
        Path file = write(yaml);
        String message = assertThrows(ConfigException.class, () -> ConfigLoader.load(file)).getMessage();
        assertFalse(message.contains("\n"), message);
        return message.substring(file.toString().length() + 1);
    }

    @Test
    void aGraphStudentLoadsWithOneCostPerBlock() throws IOException {
        ExperimentConfig c = ConfigLoader.load(write(config(GRAPH)));
        ModelConfig.Declared student = (ModelConfig.Declared) c.models().get("student");
        GraphSpec spec = assertInstanceOf(GraphSpec.class, student.network());
        assertFalse(student.sequential());
        assertEquals(List.of("stem", "res_1", "res_2", "gc", "cat", "sep", "db", "bn", "global_pool_7", "output_8"),
                spec.nodes().stream().map(GraphSpec.Node::name).toList());
        List<String> shapes = student.cost().layers().stream().map(l -> l.outputShape()).toList();
        assertEquals(List.of("8x8x8", "8x8x8", "8x8x8", "8x8x8", "8x8x16", "4x4x16", "4x4x24", "4x4x8", "8", "10"),
                shapes);
        assertEquals("residual res_1", student.cost().layers().get(1).type());
        assertThrows(IllegalStateException.class, student::spec);
    }

    @Test
    void aZooStudentTakesWidthAndDepth() throws IOException {
        ExperimentConfig c = ConfigLoader.load(write(config("{zoo: mobilenet-tiny, width: 0.5, depth: 2}")));
        ModelConfig.Declared student = (ModelConfig.Declared) c.models().get("student");
        assertEquals(dev.distill.models.zoo.Zoo.spec("mobilenet-tiny", 0.5, 2, 10), student.network());
        ExperimentConfig mlp = ConfigLoader.load(write(config("{zoo: mlp, width: 0.25}")));
        ModelSpec spec = ((ModelConfig.Declared) mlp.models().get("student")).spec();
        assertEquals(64 * 32 + 32 + 32 * 10 + 10, spec.cost(c.data().input(), 10).params());
    }

    /** A student graph of {@code first}, the merge block {@code merge} (line 9), global pooling and the output. */
    private static String mergeAfter(String first, String merge) {
        return config("graph:\n  - " + first + "\n  - " + merge + "\n  - {type: global_pool}\n  - {type: output}\n");
    }

    @Test
    void wiringAndShapeErrorsNameTheBlockAndItsLine() throws IOException {
        String cycle = config("""
                graph:
                  - {name: a, type: separable, filters: 4, inputs: [b]}
                  - {name: b, type: separable, filters: 4}
                  - {type: global_pool}
                  - {type: output}
                """);
        assertEquals("8: models.student.graph[0]: block 'a': its inputs form a cycle (a -> b -> a) (input 8x8x1)",
                error(cycle));
        String unknown = mergeAfter("{name: a, type: separable, filters: 4}", "{name: sum, type: add, inputs: [a, nope]}");
        assertTrue(error(unknown).startsWith("9: models.student.graph[1]: block 'sum': unknown input 'nope'; known: "
                + "input, a, global_pool_2, output_3"), error(unknown));
        String add = mergeAfter("{name: a, type: separable, filters: 4}", "{name: sum, type: add, inputs: [a, input]}");
        assertEquals("9: models.student.graph[1]: block 'sum': add needs inputs of one shape, got a 8x8x4, "
                + "input 8x8x1 (input 8x8x1)", error(add));
        String concat = mergeAfter("{name: a, type: separable, filters: 4, stride: 2}",
                "{name: cat, type: concat, inputs: [a, input]}");
        assertTrue(error(concat).startsWith("9: models.student.graph[1]: block 'cat': concat needs inputs of one height"
                + " and width"), error(concat));
    }

    @Test
    void badBlocksAndZooNamesAreLocated() throws IOException {
        String unknownType = error(config("graph: [{type: shuffle}, {type: output}]"));
        assertTrue(unknownType.startsWith("7: models.student.graph[0].type: unknown block type 'shuffle'; known: dense,"
                + " conv2d") && unknownType.endsWith("group_conv, add, concat"), unknownType);
        assertEquals("7: models.student.graph[0].filters: filters (6) must be a multiple of groups (4)",
                error(config("graph: [{type: group_conv, filters: 6, groups: 4}, {type: output}]")));
        assertEquals("7: models.student.graph[1].type: add needs at least two inputs, e.g. inputs: [a, b]",
                error(config("graph: [{type: conv2d, filters: 2}, {type: add}, {type: output}]")));
        assertEquals("7: models.student.zoo: unknown zoo model 'vgg'; known: mlp, cnn, mobilenet-tiny, "
                + "shufflenet-tiny, resnet-tiny", error(config("{zoo: vgg}")));
        assertEquals("7: models.student.width: must be positive, found 0.0", error(config("{zoo: mlp, width: 0}")));
        assertEquals("7: models.student.width: multipliers apply to zoo: models only",
                error(config("{layers: [{type: output}], width: 2}")));
    }

    @Test
    void aStageOnAGraphStudentIsRefusedBeforeAnythingTrains() throws IOException {
        for (String stage : List.of("{type: prune, sparsity: 0.5}", "{type: low_rank, energy: 0.9}")) {
            String yaml = config("{zoo: resnet-tiny}") + "stages:\n  - " + stage + "\n";
            assertEquals("10: stages[0].type: model student is a graph model; this stage supports sequential models"
                    + " (layers:) only for now (quantize and export take graphs): name the sequential students in"
                    + " models: [...], or drop the stage", error(yaml), stage);
        }
    }

    @Test
    void aQuantizeStageThatFineTunesAGraphStudentIsRefusedBeforeAnythingTrains() throws IOException {
        String kmeans = config("{zoo: resnet-tiny}") + "stages:\n  - {type: quantize, scheme: kmeans}\n";
        assertEquals("10: stages[0].fine_tune_epochs: model student is a graph model, which is quantized after"
                + " training only: set fine_tune_epochs: 0, or name the sequential students in models: [...]",
                error(kmeans));
        String qat = config("{zoo: resnet-tiny}") + "stages:\n  - {type: quantize, scheme: int8, qat: true}\n";
        assertTrue(error(qat).startsWith("10: stages[0].qat: model student is a graph model"), error(qat));
    }
}
