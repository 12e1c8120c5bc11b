/**
 * The activation link: ring messages (activations forward, sampled tokens back to stage 0) from one
 * stage to the next over a TCP connection of their own, read by a thread of the receiving stage's
 * JVM, while everything else stays on Pekko remoting. Artery's TCP transport passes each message
 * through several streams and actors, each a thread wake-up; on a 2-vCPU VM a ring message took
 * 1.5-1.7 ms that way against ~0.25 ms on a plain socket (`.ci/bench-two-jvm`,
 * `.ci/bench-split-ring`). Messages keep Pekko's serializers; this package knows no stage type.
 */
package catena.worker.link;
