/**
 * Thin adapters between Catena and the Kubernetes API (fabric8 client): a pod informer that feeds
 * {@link catena.gateway.discovery.SeedSelection} and joins the Pekko cluster, and the worker
 * StatefulSet's {@code scale} subresource for the autoscaler. Decisions live in plain classes
 * ({@code catena.gateway.discovery}, {@code catena.gateway.scaling}); this package only reads and
 * writes the API. Every call made here must be granted by the chart's Role (templates/rbac.yaml);
 * the chart test compares the two.
 */
package catena.gateway.k8s;
