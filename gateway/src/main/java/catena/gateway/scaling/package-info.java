/**
 * Decisions about how many workers the cluster should run, as plain classes fed with observed
 * signals. Depends on the JDK only: no Pekko, no Kubernetes client; whoever applies a decision (a
 * StatefulSet patch, a log line) lives elsewhere and calls in.
 */
package catena.gateway.scaling;
