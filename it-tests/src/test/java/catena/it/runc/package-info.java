/**
 * The chart's pods as real containers: the rendered gateway and worker pod specs turned into OCI
 * bundles of the built image (umoci), run by runc in network namespaces of their own, with
 * probes run the way the kubelet runs them. Needs root, runc and umoci; {@code .ci/k8s-e2e}.
 */
package catena.it.runc;
