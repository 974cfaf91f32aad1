/**
 * The one door to model files: {@link dev.distill.core.modelfile.ModelReader} tells a file's format from its
 * first bytes and reads DL4J zips, sparse, packed and ONNX files alike, every fault one line naming the file.
 * It sits above the formats' own packages (prune's sparse, quant's packed) so those need not know each other.
 */
package dev.distill.core.modelfile;
