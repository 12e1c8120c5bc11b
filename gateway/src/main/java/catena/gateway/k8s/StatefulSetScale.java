package catena.gateway.k8s;

import catena.gateway.scaling.WorkerPool;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.api.model.autoscaling.v1.Scale;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;

/**
 * The {@code scale} subresource of one StatefulSet: reads the desired replica count and changes
 * it with a merge patch. Touches nothing else of the StatefulSet, so the Role needs only
 * {@code statefulsets/scale} get and patch on that one name.
 */
public final class StatefulSetScale implements WorkerPool {
    private final KubernetesClient client;
    private final String namespace;
    private final String name;

    public StatefulSetScale(KubernetesClient client, String namespace, String name) {
        if (namespace == null || namespace.isBlank()) {
            throw new IllegalArgumentException("statefulset scale: namespace=" + namespace + ", expected a namespace");
        }
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("statefulset scale: name=" + name + ", expected a StatefulSet name");
        }
        this.client = client;
        this.namespace = namespace;
        this.name = name;
    }

    /** The StatefulSet's desired replicas ({@code spec.replicas} of its scale). */
    @Override
    public int replicas() {
        Scale scale = client.apps().statefulSets().inNamespace(namespace).withName(name).scale();
        if (scale == null || scale.getSpec() == null || scale.getSpec().getReplicas() == null) {
            throw new IllegalStateException("statefulset " + namespace + "/" + name + ": no scale (does it exist?)");
        }
        return scale.getSpec().getReplicas();
    }

    /** Sets the desired replicas; the StatefulSet controller then adds or removes the highest ordinals. */
    @Override
    public void scaleTo(int replicas) {
        if (replicas < 0) {
            throw new IllegalArgumentException("statefulset " + namespace + "/" + name + ": replicas=" + replicas
                    + ", expected >= 0");
        }
        // Naming the object (not withName) spares the client a GET of the whole StatefulSet before the patch.
        StatefulSet target = new StatefulSetBuilder().withNewMetadata().withName(name).withNamespace(namespace)
                .endMetadata().build();
        client.apps().statefulSets().inNamespace(namespace).resource(target).subresource("scale")
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"replicas\":" + replicas + "}}");
    }

    public String name() {
        return name;
    }
}
