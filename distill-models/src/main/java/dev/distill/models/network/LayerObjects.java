package dev.distill.models.network;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Puts layer objects of the project's own into a sequential network in place of DL4J's, computing over the same
 * parameter and gradient arrays ({@link LeanDenseBackprop}, {@link FewChannelConvolution}): DL4J's extension point
 * for how a layer computes, which leaves the network's configuration and files alone.
 */
final class LayerObjects {

    private LayerObjects() {
    }

    /** Makes the replacement for {@code layers[index]}, or null to leave it to DL4J. */
    @FunctionalInterface
    interface Replacement {
        /**
         * @param inputGradientUnused whether DL4J drops this layer's input gradient: it is the first layer and no
         *     preprocessor before it is handed the gradient
         */
        Layer replace(Layer[] layers, int index, boolean inputGradientUnused);
    }

    /**
     * Replaces each layer of {@code net} (a sequential network's; a graph is left alone) that {@code replacement}
     * makes one for, handing the new object the old one's arrays, listeners and counts. Layers already of
     * {@code kind} are counted and left: calling it again changes nothing.
     *
     * @return the number of layers of {@code kind} in the network afterwards
     */
    static int replace(Network net, Class<? extends Layer> kind, Replacement replacement) {
        if (!(net instanceof Network.Sequential s)) {
            return 0;
        }
        MultiLayerNetwork mln = s.net();
        if (mln.getFlattenedGradients() == null) {
            mln.initGradientsView();   // made at the first step otherwise; the new layers need its views now
        }
        Layer[] layers = mln.getLayers();   // DL4J's own array: a layer put here is the one the network runs
        int installed = 0;
        for (int i = 0; i < layers.length; i++) {
            Layer layer = layers[i];
            if (kind.isInstance(layer)) {
                installed++;
                continue;
            }
            boolean unused = i == 0 && mln.getLayerWiseConfigurations().getInputPreProcess(0) == null;
            Layer made = replacement.replace(layers, i, unused);
            if (made != null) {
                made.setListeners(layer.getListeners());
                made.setIndex(layer.getIndex());
                made.setParamsViewArray(layer.params());
                made.setParamTable(layer.paramTable());
                made.setBackpropGradientsViewArray(layer.getGradientsViewArray());
                made.setIterationCount(layer.getIterationCount());
                made.setEpochCount(layer.getEpochCount());
                layers[i] = made;
                installed++;
            }
        }
        return installed;
    }
}
