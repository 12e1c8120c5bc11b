/**
 * How a node finds the Pekko cluster from what the Kubernetes API says about the release's pods:
 * which pods are seed candidates, in which order, and when a node should wait rather than form a
 * cluster of its own. Plain classes over {@link catena.gateway.discovery.PodView} values; the
 * fabric8 informer that produces them lives in {@code catena.gateway.k8s}. Depends on the JDK
 * only.
 */
package catena.gateway.discovery;
