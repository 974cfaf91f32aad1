package dev.distill.runner.pipeline;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.factory.Nd4j;

/** Versions and machine facts recorded with every run, so that its figures can be put in context. */
final class Provenance {

    private Provenance() {
    }

    static Map<String, String> collect() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("distill", String.valueOf(Provenance.class.getPackage().getImplementationVersion()));
        p.put("java", System.getProperty("java.version"));
        p.put("dl4j", "1.0.0-M2.1");
        p.put("nd4j_backend", Nd4j.getBackend().getClass().getSimpleName());
        p.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        p.put("cores", String.valueOf(Runtime.getRuntime().availableProcessors()));
        p.put("omp_num_threads", String.valueOf(System.getenv("OMP_NUM_THREADS")));
        p.put("load_average", String.format(java.util.Locale.ROOT, "%.2f",
                java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage()));
        try {
            p.put("host", InetAddress.getLocalHost().getHostName());
        } catch (Exception e) {
            p.put("host", "unknown");
        }
        return p;
    }
}
