package dev.distill.models.spec;

/**
 * A declared network: a sequential {@link ModelSpec} (a list of layers) or a {@link GraphSpec}
 * (named blocks with inputs). Both are checked against an input shape by {@link #cost}, which also
 * counts parameters and multiply-adds.
 */
public sealed interface NetworkSpec permits ModelSpec, GraphSpec {

    /** Number of classes the output predicts. */
    int classes();

    /**
     * Checks the shapes against {@code input} and counts each layer's (or block's) parameters and
     * multiply-adds.
     *
     * @throws SpecException naming the first layer or block that does not fit
     */
    ModelCost cost(InputShape input, int numClasses);
}
