package dev.distill.core.chain;

import dev.distill.models.spec.LayerSpec;
import dev.distill.models.spec.ModelSpec;
import dev.distill.models.spec.NetworkSpec;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The candidates of an automatic teacher assistant. Mirzadeh et al. (AAAI 2020, "Improved Knowledge
 * Distillation via Teacher Assistant") find that the best assistant size lies between the student's and the
 * teacher's and differs from task to task, and choose it by trying several: so does the framework, on
 * validation. Each candidate is the student's own layer list (its depth, kernels, pools, activations) with
 * every hidden width (dense units, convolution filters) scaled by one factor, so that its widest hidden layer
 * has the candidate's width; the output layer is the student's. The widths are given ({@link #widths}), or
 * {@code count} of them are spaced geometrically between the student's widest hidden layer and the teacher's,
 * both excluded (student 16, teacher 128, count 2: 32 and 64).
 *
 * @param widths the candidates' widths, in the order they are tried (empty when {@code count} is used)
 * @param count  how many widths to space between the student's and the teacher's (0 when widths are given)
 */
public record AssistantFamily(List<Integer> widths, int count) {

    /** Candidates one automatic assistant may have: each costs an assistant's and its students' trainings. */
    public static final int MAX_CANDIDATES = 8;
    /** Candidates when none are asked for: a small family, as TAKD's own study of sizes. */
    public static final int DEFAULT_COUNT = 3;
    /** {@link #DEFAULT_COUNT} widths between the student's and the teacher's. */
    public static final AssistantFamily DEFAULT = count(DEFAULT_COUNT);

    /** @throws IllegalArgumentException for an empty or oversized family, or a width that is not positive */
    public AssistantFamily {
        widths = List.copyOf(widths);
        if (!widths.isEmpty() && count != 0) {
            throw new IllegalArgumentException("give either widths (the candidates) or count (how many to space "
                    + "between the student's and the teacher's widths), not both");
        }
        int n = widths.isEmpty() ? count : widths.size();
        if (n < 1) {
            throw new IllegalArgumentException(widths.isEmpty() && count == 0
                    ? "an empty family: give at least one candidate width, or a count of at least 1"
                    : "count must be at least 1, found " + count);
        }
        if (n > MAX_CANDIDATES) {
            throw new IllegalArgumentException("at most " + MAX_CANDIDATES + " candidates (each is an assistant and "
                    + "its students to train), found " + n);
        }
        Set<Integer> seen = new LinkedHashSet<>();
        for (int w : widths) {
            if (w < 1) {
                throw new IllegalArgumentException("candidate widths must be positive, found " + w);
            }
            if (!seen.add(w)) {
                throw new IllegalArgumentException("the width " + w + " is listed twice");
            }
        }
    }

    /** {@code n} candidates spaced geometrically between the student's and the teacher's widths. */
    public static AssistantFamily count(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("count must be at least 1, found " + n);
        }
        return new AssistantFamily(List.of(), n);
    }

    /** The candidates of these widths (of their widest hidden layer), tried in this order. */
    public static AssistantFamily widths(List<Integer> widths) {
        return new AssistantFamily(widths, 0);
    }

    /**
     * One candidate assistant.
     *
     * @param label   {@code w<width>}: what reports and unit ids call it
     * @param width   its widest hidden layer's width
     * @param network the student's layers with their widths scaled
     */
    public record Candidate(String label, int width, ModelSpec network) {

        /** The candidate's node in place of the automatic {@code assistant} node: id {@code <id>@<label>}. */
        public Plan.Node assistantNode(Plan.Node assistant) {
            return assistant.variant(assistant.id() + "@" + label, assistant.distillation());
        }

        /** {@code student} (the node the automatic assistant teaches) distilled from this candidate instead. */
        public Plan.Node studentNode(Plan.Node student) {
            return new Plan.Node(student.id() + "@" + label, student.model(), student.role(),
                    student.parentId() + "@" + label, student.distillation());
        }
    }

    /**
     * The candidates for {@code student} taught through them by {@code teacher}.
     *
     * @param teacher the teacher's network when it is declared, null for a trained (given, loaded) one, whose
     *                widths are not known: then the family must list its widths
     * @throws IllegalArgumentException naming why there are none: a student that is not a layer list or has no
     *                                  hidden width, no width strictly between the student's and the teacher's,
     *                                  a listed width outside that range
     */
    public List<Candidate> candidates(NetworkSpec student, NetworkSpec teacher) {
        if (!(student instanceof ModelSpec studentLayers)) {
            throw new IllegalArgumentException("the student is not declared layer by layer (layers:), and an automatic "
                    + "assistant is the student's layers made wider");
        }
        int low = widestHidden(studentLayers);
        if (low < 1) {
            throw new IllegalArgumentException("the student has no hidden layer with a width (dense units or "
                    + "convolution filters) to scale");
        }
        int high = teacher instanceof ModelSpec t ? widestHidden(t) : -1;
        List<Integer> chosen = widths.isEmpty() ? spaced(low, high) : listed(low, high);
        List<Candidate> candidates = new ArrayList<>();
        for (int w : chosen) {
            candidates.add(new Candidate("w" + w, w, scaled(studentLayers, w / (double) low)));
        }
        return candidates;
    }

    private List<Integer> spaced(int low, int high) {
        if (high < 0) {
            throw new IllegalArgumentException("the teacher is not declared layer by layer (layers:), so its width is "
                    + "not known: list the candidates' widths (widths: [...]) instead of a count");
        }
        if (high - low < 2) {
            throw new IllegalArgumentException("no room for an assistant: the student's widest hidden layer has " + low
                    + " units or filters and the teacher's " + high + "; an assistant's width lies strictly between");
        }
        Set<Integer> out = new LinkedHashSet<>();
        for (int k = 1; k <= count; k++) {
            out.add((int) Math.round(low * Math.pow(high / (double) low, k / (double) (count + 1))));
        }
        if (out.size() < count || out.contains(low) || out.contains(high)) {
            throw new IllegalArgumentException("count " + count + " gives the same width twice between the student's "
                    + low + " and the teacher's " + high + " (" + out + "): lower the count or list the widths");
        }
        return List.copyOf(out);
    }

    private List<Integer> listed(int low, int high) {
        for (int w : widths) {
            if (w <= low || high > 0 && w >= high) {
                throw new IllegalArgumentException("width " + w + " is not between the student's widest hidden layer ("
                        + low + ")" + (high > 0 ? " and the teacher's (" + high + ")" : " and the teacher's")
                        + ": an assistant is wider than its student and narrower than its teacher");
            }
        }
        return widths;
    }

    /** The widest hidden layer of {@code spec}: the most dense units or convolution filters; -1 if it has none. */
    public static int widestHidden(ModelSpec spec) {
        int widest = -1;
        for (LayerSpec layer : spec.layers()) {
            widest = Math.max(widest, width(layer));
        }
        return widest;
    }

    private static int width(LayerSpec layer) {
        if (layer instanceof LayerSpec.Dense d) {
            return d.units();
        }
        if (layer instanceof LayerSpec.Conv2d c) {
            return c.filters();
        }
        if (layer instanceof LayerSpec.RectConv2d c) {
            return c.filters();
        }
        if (layer instanceof LayerSpec.SeparableConv2d c) {
            return c.filters();
        }
        return -1;
    }

    /** {@code spec} with every hidden width times {@code factor} (rounded, at least 1). */
    static ModelSpec scaled(ModelSpec spec, double factor) {
        List<LayerSpec> layers = new ArrayList<>();
        for (LayerSpec layer : spec.layers()) {
            layers.add(scaled(layer, factor));
        }
        return new ModelSpec(layers);
    }

    private static LayerSpec scaled(LayerSpec layer, double factor) {
        if (layer instanceof LayerSpec.Dense d) {
            return new LayerSpec.Dense(times(d.units(), factor), d.activation(), d.bias());
        }
        if (layer instanceof LayerSpec.Conv2d c) {
            return new LayerSpec.Conv2d(times(c.filters(), factor), c.kernel(), c.stride(), c.padding(),
                    c.activation(), c.bias());
        }
        if (layer instanceof LayerSpec.RectConv2d c) {
            return new LayerSpec.RectConv2d(times(c.filters(), factor), c.kernelHeight(), c.kernelWidth(),
                    c.strideHeight(), c.strideWidth(), c.padding(), c.activation(), c.bias());
        }
        if (layer instanceof LayerSpec.SeparableConv2d c) {
            return new LayerSpec.SeparableConv2d(times(c.filters(), factor), c.kernel(), c.multiplier(), c.stride(),
                    c.padding(), c.activation());
        }
        return layer;
    }

    private static int times(int width, double factor) {
        return Math.max(1, (int) Math.round(width * factor));
    }
}
