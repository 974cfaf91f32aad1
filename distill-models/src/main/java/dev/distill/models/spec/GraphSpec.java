package dev.distill.models.spec;

import dev.distill.models.spec.BlockSpec.Add;
import dev.distill.models.spec.BlockSpec.Bottleneck;
import dev.distill.models.spec.BlockSpec.Concat;
import dev.distill.models.spec.BlockSpec.DenseBlock;
import dev.distill.models.spec.BlockSpec.GroupConv;
import dev.distill.models.spec.BlockSpec.Residual;
import dev.distill.models.spec.BlockSpec.Separable;
import dev.distill.models.spec.LayerSpec.Output;
import dev.distill.models.spec.LayerSpec.Padding;
import dev.distill.models.spec.ModelSpec.Shape;
import dev.distill.models.spec.ModelSpec.Step;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A graph-shaped model: named blocks, each reading the outputs of the blocks it names as
 * {@code inputs} (by default the block declared before it; {@value #INPUT} is the network's input).
 * A block with {@code repeat: n} stands for n copies in a chain, named {@code <name>_1 .. <name>_n};
 * later blocks that name it read the last copy. The last block is the output layer.
 *
 * <p>{@link #nodes()} expands repeats and checks the wiring (unknown inputs, cycles, blocks whose
 * output goes nowhere); {@link #cost} also checks the shapes (add and concat inputs that do not
 * fit). Every error is a {@link SpecException} whose index is the declared block's and whose
 * message names the block.
 */
public record GraphSpec(List<Block> blocks) implements NetworkSpec {

    /** The name by which blocks read the network's input. */
    public static final String INPUT = "input";

    /** One declared block. {@code inputs} empty means: the block declared before this one. */
    public record Block(String name, List<String> inputs, BlockSpec spec, int repeat) {
        public Block {
            inputs = List.copyOf(inputs);
            if (!name.matches("[A-Za-z0-9_]+")) {
                throw new IllegalArgumentException("block names use letters, digits and '_', found '" + name + "'");
            }
            if (name.equals(INPUT)) {
                throw new IllegalArgumentException("'" + INPUT + "' names the network's input; call the block otherwise");
            }
            if (repeat < 1) {
                throw new IllegalArgumentException("repeat must be a positive integer, got " + repeat);
            }
            boolean merge = spec instanceof Add || spec instanceof Concat;
            if (merge && repeat > 1) {
                throw new IllegalArgumentException(spec.type() + " cannot repeat");
            }
            if (merge && inputs.size() < 2) {
                throw new IllegalArgumentException(spec.type() + " needs at least two inputs, e.g. inputs: [a, b]");
            }
            if (!merge && inputs.size() > 1) {
                throw new IllegalArgumentException(spec.type() + " takes one input, found " + inputs.size()
                        + "; merge them first with an add or concat block");
            }
        }

        public static Block of(String name, BlockSpec spec, String... inputs) {
            return new Block(name, List.of(inputs), spec, 1);
        }
    }

    /** A block after repeats are expanded, with its inputs resolved to node names. */
    public record Node(String name, List<String> inputs, BlockSpec spec, int declaredIndex) {
    }

    public GraphSpec {
        blocks = List.copyOf(blocks);
        if (blocks.isEmpty()) {
            throw new SpecException(-1, "a graph needs at least one block");
        }
        for (int i = 0; i < blocks.size(); i++) {
            boolean output = blocks.get(i).spec() instanceof BlockSpec.Layer l && l.layer() instanceof Output;
            boolean last = i == blocks.size() - 1;
            if (last && !output) {
                throw new SpecException(i, "block '" + blocks.get(i).name() + "': the last block must be of type output,"
                        + " found " + blocks.get(i).spec().type());
            }
            if (!last && output) {
                throw new SpecException(i, "block '" + blocks.get(i).name() + "': an output block must be the last block");
            }
        }
    }

    @Override
    public int classes() {
        return ((Output) ((BlockSpec.Layer) blocks.get(blocks.size() - 1).spec()).layer()).classes();
    }

    /** The name of the node that gives the network's output. */
    public String outputName() {
        List<Node> nodes = nodes();
        return nodes.get(nodes.size() - 1).name();
    }

    /**
     * The blocks with repeats expanded and inputs resolved, in an order where every node comes
     * after its inputs.
     *
     * @throws SpecException for a duplicate name, an unknown input, a cycle, or a block nobody reads
     */
    public List<Node> nodes() {
        Map<String, String> alias = new HashMap<>();
        Map<String, Integer> declaredAt = new HashMap<>();
        List<String> lastNames = new ArrayList<>();
        for (int i = 0; i < blocks.size(); i++) {
            Block b = blocks.get(i);
            if (declaredAt.putIfAbsent(b.name(), i) != null) {
                throw new SpecException(i, "block '" + b.name() + "': the name is used twice");
            }
            String last = b.repeat() == 1 ? b.name() : b.name() + "_" + b.repeat();
            alias.put(b.name(), last);
            lastNames.add(last);
        }
        List<Node> declaredOrder = new ArrayList<>();
        Set<String> nodeNames = new LinkedHashSet<>();
        for (int i = 0; i < blocks.size(); i++) {
            Block b = blocks.get(i);
            List<String> inputs = new ArrayList<>();
            if (b.inputs().isEmpty()) {
                inputs.add(i == 0 ? INPUT : lastNames.get(i - 1));
            }
            for (String in : b.inputs()) {
                if (in.equals(INPUT)) {
                    inputs.add(INPUT);
                } else if (alias.containsKey(in)) {
                    inputs.add(alias.get(in));
                } else {
                    List<String> known = new ArrayList<>(List.of(INPUT));
                    blocks.stream().map(Block::name).filter(n -> !n.equals(b.name())).forEach(known::add);
                    throw new SpecException(i, "block '" + b.name() + "': unknown input '" + in + "'; known: "
                            + String.join(", ", known));
                }
            }
            for (int r = 1; r <= b.repeat(); r++) {
                String name = b.repeat() == 1 ? b.name() : b.name() + "_" + r;
                if (!nodeNames.add(name)) {
                    throw new SpecException(i, "block '" + b.name() + "': its copy " + name + " clashes with a block of"
                            + " that name");
                }
                List<String> in = r == 1 ? inputs : List.of(b.name() + "_" + (r - 1));
                declaredOrder.add(new Node(name, List.copyOf(in), b.spec(), i));
            }
        }
        return sorted(declaredOrder);
    }

    /** Kahn's topological sort, keeping the declared order among ready nodes; names a cycle if there is one. */
    private static List<Node> sorted(List<Node> nodes) {
        Map<String, Node> byName = new LinkedHashMap<>();
        nodes.forEach(n -> byName.put(n.name(), n));
        Map<String, Integer> consumers = new HashMap<>();
        nodes.forEach(n -> n.inputs().forEach(in -> consumers.merge(in, 1, Integer::sum)));
        for (int i = 0; i < nodes.size() - 1; i++) {
            Node n = nodes.get(i);
            if (!consumers.containsKey(n.name())) {
                throw new SpecException(n.declaredIndex(), "block '" + n.name() + "': no block reads its output; name it"
                        + " in a later block's inputs or remove it");
            }
        }
        List<Node> order = new ArrayList<>();
        Set<String> done = new LinkedHashSet<>();
        done.add(INPUT);
        boolean progress = true;
        while (order.size() < nodes.size() && progress) {
            progress = false;
            for (Node n : nodes) {
                if (!done.contains(n.name()) && done.containsAll(n.inputs())) {
                    order.add(n);
                    done.add(n.name());
                    progress = true;
                }
            }
        }
        if (order.size() < nodes.size()) {
            Node start = nodes.stream().filter(n -> !done.contains(n.name())).findFirst().orElseThrow();
            // follow unfinished inputs until a node repeats: that loop is the cycle
            Deque<String> path = new ArrayDeque<>();
            String at = start.name();
            while (!path.contains(at)) {
                path.addLast(at);
                at = byName.get(at).inputs().stream().filter(in -> !done.contains(in)).findFirst().orElseThrow();
            }
            List<String> cycle = new ArrayList<>(path);
            cycle = cycle.subList(cycle.indexOf(at), cycle.size());
            // shown in the direction data flows, from the block declared first
            List<String> shown = new ArrayList<>(cycle);
            java.util.Collections.reverse(shown);
            int first = 0;
            for (int k = 1; k < shown.size(); k++) {
                if (byName.get(shown.get(k)).declaredIndex() < byName.get(shown.get(first)).declaredIndex()) {
                    first = k;
                }
            }
            java.util.Collections.rotate(shown, -first);
            at = shown.get(0);
            shown.add(shown.get(0));
            throw new SpecException(byName.get(at).declaredIndex(), "block '" + at + "': its inputs form a cycle ("
                    + String.join(" -> ", shown) + ")");
        }
        return order;
    }

    @Override
    public ModelCost cost(InputShape input, int numClasses) {
        Map<String, Shape> shapes = new HashMap<>();
        shapes.put(INPUT, Shape.of(input));
        List<LayerCost> costs = new ArrayList<>();
        List<Node> nodes = nodes();
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            List<Shape> in = n.inputs().stream().map(shapes::get).toList();
            Step step;
            try {
                step = step(n, in, numClasses);
            } catch (SpecException e) {
                String message = e.getMessage().startsWith("block '") ? e.getMessage()
                        : "block '" + n.name() + "': " + e.getMessage();
                throw new SpecException(n.declaredIndex(), message);
            }
            shapes.put(n.name(), step.out());
            costs.add(new LayerCost(i, n.spec().type() + " " + n.name(), step.out().toString(), step.params(),
                    step.macs()));
        }
        return new ModelCost(costs);
    }

    private static Step step(Node n, List<Shape> in, int numClasses) {
        int at = n.declaredIndex();
        BlockSpec spec = n.spec();
        if (spec instanceof BlockSpec.Layer l) {
            return ModelSpec.step(at, l.layer(), in.get(0), numClasses);
        }
        if (spec instanceof Add) {
            for (int k = 1; k < in.size(); k++) {
                if (!in.get(k).equals(in.get(0))) {
                    throw new SpecException(at, "block '" + n.name() + "': add needs inputs of one shape, got "
                            + describe(n, in));
                }
            }
            return new Step(in.get(0), 0, 0);
        }
        if (spec instanceof Concat) {
            Shape first = in.get(0);
            int channels = 0;
            for (Shape s : in) {
                if (s.image() != first.image() || s.h() != first.h() || s.w() != first.w()) {
                    throw new SpecException(at, "block '" + n.name() + "': concat needs inputs of one height and width"
                            + " (or all flat), got " + describe(n, in));
                }
                channels += s.c();
            }
            return new Step(new Shape(first.h(), first.w(), channels, first.image()), 0, 0);
        }
        Shape x = in.get(0);
        ModelSpec.requireImage(at, spec.type(), x);
        if (spec instanceof Separable s) {
            Shape out = same(at, spec, x, s.kernel(), s.stride(), s.filters());
            long hw = (long) out.h() * out.w();
            long depthwise = (long) s.kernel() * s.kernel() * x.c();
            long pointwise = (long) x.c() * s.filters();
            return new Step(out, depthwise + 4L * x.c() + pointwise + 4L * s.filters(),
                    hw * (depthwise + x.c() + pointwise + s.filters()));
        }
        if (spec instanceof Bottleneck b) {
            long reduce = (long) x.c() * b.reduce();
            Shape out = same(at, spec, x, b.kernel(), b.stride(), b.filters());
            long conv = (long) b.kernel() * b.kernel() * b.reduce() * b.filters();
            long inHw = (long) x.h() * x.w();
            long outHw = (long) out.h() * out.w();
            return new Step(out, reduce + 4L * b.reduce() + conv + 4L * b.filters(),
                    inHw * (reduce + b.reduce()) + outHw * (conv + b.filters()));
        }
        if (spec instanceof Residual r) {
            Shape out = same(at, spec, x, r.kernel(), r.stride(), r.filters());
            long hw = (long) out.h() * out.w();
            long k2 = (long) r.kernel() * r.kernel();
            long conv1 = k2 * x.c() * r.filters();
            long conv2 = k2 * r.filters() * r.filters();
            long params = conv1 + conv2 + 8L * r.filters();
            long macs = hw * (conv1 + conv2 + 2L * r.filters());
            if (projects(r, x)) {
                long projection = (long) x.c() * r.filters();
                params += projection + 4L * r.filters();
                macs += hw * (projection + r.filters());
            }
            return new Step(out, params, macs);
        }
        if (spec instanceof DenseBlock d) {
            long hw = (long) x.h() * x.w();
            long params = 0;
            long macs = 0;
            for (int layer = 0; layer < d.layers(); layer++) {
                long c = x.c() + (long) layer * d.growth();
                long conv = (long) d.kernel() * d.kernel() * c * d.growth();
                params += 4 * c + conv;
                macs += hw * (c + conv);
            }
            return new Step(new Shape(x.h(), x.w(), x.c() + d.layers() * d.growth(), true), params, macs);
        }
        if (spec instanceof GroupConv g) {
            if (x.c() % g.groups() != 0) {
                throw new SpecException(at, "block '" + n.name() + "': its input has " + x.c() + " channels, not a"
                        + " multiple of groups (" + g.groups() + ")");
            }
            Shape out = same(at, spec, x, g.kernel(), g.stride(), g.filters());
            long weights = (long) g.kernel() * g.kernel() * (x.c() / g.groups()) * g.filters();
            return new Step(out, weights + g.filters(), (long) out.h() * out.w() * weights);
        }
        throw new IllegalStateException("no cost for " + spec);
    }

    /** A square convolution with padding same, as every composite block's are. */
    private static Shape same(int at, BlockSpec spec, Shape x, int kernel, int stride, int filters) {
        return ModelSpec.convolved(at, spec.type(), x, kernel, kernel, stride, stride, Padding.SAME, filters);
    }

    /** Whether a residual block needs a 1×1 projection on its shortcut (its shape changes). */
    public static boolean projects(Residual r, int inputChannels) {
        return r.stride() != 1 || inputChannels != r.filters();
    }

    private static boolean projects(Residual r, Shape x) {
        return projects(r, x.c());
    }

    private static String describe(Node n, List<Shape> in) {
        List<String> parts = new ArrayList<>();
        for (int k = 0; k < in.size(); k++) {
            parts.add(n.inputs().get(k) + " " + in.get(k));
        }
        return String.join(", ", parts);
    }
}
