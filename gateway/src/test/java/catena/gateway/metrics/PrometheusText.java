package catena.gateway.metrics;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.hawkular.agent.prometheus.text.TextPrometheusMetricsProcessor;
import org.hawkular.agent.prometheus.types.Counter;
import org.hawkular.agent.prometheus.types.Gauge;
import org.hawkular.agent.prometheus.types.Histogram;
import org.hawkular.agent.prometheus.types.Metric;
import org.hawkular.agent.prometheus.types.MetricFamily;
import org.hawkular.agent.prometheus.walkers.CollectorPrometheusMetricsWalker;

/** A scrape parsed by a Prometheus text-format parser (Hawkular's), for tests to read values from. */
public final class PrometheusText {
    private final Map<String, MetricFamily> families = new LinkedHashMap<>();

    public PrometheusText(String text) {
        CollectorPrometheusMetricsWalker walker = new CollectorPrometheusMetricsWalker();
        new TextPrometheusMetricsProcessor(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), walker)
                .walk();
        for (MetricFamily f : walker.getAllMetricFamilies()) {
            families.put(f.getName(), f);
        }
    }

    public Map<String, MetricFamily> families() {
        return families;
    }

    /** The one sample of {@code name} whose labels include {@code labels} ("k", "v", ...); fails if none. */
    public Metric metric(String name, String... labels) {
        MetricFamily f = families.get(name);
        if (f == null) {
            throw new AssertionError("no metric family " + name + " in " + families.keySet());
        }
        for (Metric m : f.getMetrics()) {
            boolean all = true;
            for (int i = 0; i < labels.length; i += 2) {
                all &= labels[i + 1].equals(m.getLabels().get(labels[i]));
            }
            if (all) {
                return m;
            }
        }
        throw new AssertionError("no sample of " + name + " with labels " + String.join(",", labels));
    }

    /** The value of a counter or gauge sample. */
    public double value(String name, String... labels) {
        Metric m = metric(name, labels);
        if (m instanceof Counter c) {
            return c.getValue();
        }
        if (m instanceof Gauge g) {
            return g.getValue();
        }
        throw new AssertionError(name + " is a " + m.getClass().getSimpleName());
    }

    /** The sample count of a histogram. */
    public long count(String name, String... labels) {
        return ((Histogram) metric(name, labels)).getSampleCount();
    }
}
