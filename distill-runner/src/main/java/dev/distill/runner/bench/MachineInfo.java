package dev.distill.runner.bench;

import dev.distill.models.network.ConvBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.bytedeco.javacpp.Loader;
import org.nd4j.linalg.factory.Nd4j;

/** Facts about the machine and the process that a timing means nothing without. */
final class MachineInfo {

    private MachineInfo() {
    }

    static BenchReport.Machine describe(double loadAtStart) {
        Properties env = Nd4j.getExecutioner().getEnvironmentInformation();
        String omp = System.getenv("OMP_NUM_THREADS");
        return new BenchReport.Machine(cpuModel(), Runtime.getRuntime().availableProcessors(), nativeBuild(),
                ConvBackend.oneDnnAvailable(),
                omp != null ? omp : env.get("omp.threads") + " (OMP_NUM_THREADS unset)",
                System.getenv().getOrDefault("OMP_WAIT_POLICY", "unset (OpenMP threads spin between ops)"),
                String.valueOf(env.get("blas.threads")),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.version"),
                List.of(loadAtStart, loadAverage()));
    }

    /** The 1-minute load average, from /proc/loadavg (NaN where there is none). */
    static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /** Peak resident set size of this process in bytes (VmHWM), or -1 where /proc has no answer. */
    static long peakRssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: reported as unknown
        }
        return -1;
    }

    /** The platform directory (e.g. linux-x86_64-onednn) that libnd4jcpu was extracted from. */
    static String nativeBuild() {
        for (Map.Entry<String, String> lib : Loader.getLoadedLibraries().entrySet()) {
            String path = lib.getValue();
            if (path != null && path.contains("nd4jcpu")) {
                Path parent = Path.of(path).getParent();
                return parent != null ? parent.getFileName().toString() : path;
            }
        }
        return "unknown";
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException e) {
            // fall through
        }
        return System.getProperty("os.arch");
    }
}
