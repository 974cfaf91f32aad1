package dev.distill.core.modelfile;

import dev.distill.models.network.Network;
import java.nio.file.Path;

/** A model file as read by {@link ModelReader}: what runs it depends on its format. */
public sealed interface ModelFile {

    Path path();

    ModelFormat format();

    /** A DL4J zip or a sparse file: a network DL4J runs and trains. */
    record Dl4j(Path path, ModelFormat format, Network network) implements ModelFile {
    }

    /** A packed file, loaded into distill-runtime. */
    record Packed(Path path, dev.distill.runtime.Model model) implements ModelFile {
        @Override
        public ModelFormat format() {
            return ModelFormat.PACKED;
        }
    }

    /** An ONNX file's bytes, for ONNX Runtime (the onnx module reads them). */
    record Onnx(Path path, byte[] bytes) implements ModelFile {
        @Override
        public ModelFormat format() {
            return ModelFormat.ONNX;
        }
    }
}
