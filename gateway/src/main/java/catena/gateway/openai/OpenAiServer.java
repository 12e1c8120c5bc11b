package catena.gateway.openai;

import catena.gateway.bridge.GenerationClient;
import catena.gateway.model.ServedModel;
import catena.gateway.session.GenerationHandle;
import com.fasterxml.jackson.core.JsonProcessingException;
import catena.gateway.security.Access;
import catena.gateway.security.WarmupSecret;
import catena.gateway.security.ApiKeys;
import catena.gateway.security.PemSslContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.ClassicActorSystemProvider;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The OpenAI-compatible HTTP server: {@code POST /v1/chat/completions}, {@code POST /v1/completions}
 * (streamed as server-sent events or whole), {@code GET /v1/models}. Each generation runs through
 * {@link GenerationClient#generate}, as a gRPC one does. Runs on the node's actor system.
 */
public final class OpenAiServer implements AutoCloseable {
    /** Largest request body read (a prompt of a long context fits many times). */
    static final long MAX_BODY_BYTES = 4L << 20;
    /** How long reading a request body may take. */
    static final long BODY_TIMEOUT_MS = 10_000;

    private final ServedModel model;
    private final GenerationClient client;
    private final Materializer materializer;
    private final ObjectMapper json = new ObjectMapper();
    private final RequestParser parser;
    private final long created = System.currentTimeMillis() / 1000;
    private final ApiKeys keys;
    /** Marks the gateway's own warm-up requests; null = none are expected. */
    private final WarmupSecret warmup;
    private ServerBinding binding;

    private OpenAiServer(ServedModel model, GenerationClient client, Materializer materializer, ApiKeys keys,
                         WarmupSecret warmup) {
        this.keys = keys;
        this.warmup = warmup;
        this.model = model;
        this.client = client;
        this.materializer = materializer;
        SecureRandom seeds = new SecureRandom();
        this.parser = new RequestParser(model, seeds::nextLong);
    }

    /** Binds {@code host:port} (port 0 = any free one) and serves until {@link #close()}. */
    public static OpenAiServer start(ClassicActorSystemProvider system, String host, int port, ServedModel model,
                                     GenerationClient client, Access access) {
        return start(system, host, port, model, client, access, null);
    }

    /**
     * As {@link #start(ClassicActorSystemProvider, String, int, ServedModel, GenerationClient, Access)};
     * requests carrying {@code warmup}'s secret run as the gateway's own warm-up (no key needed, not
     * metered).
     */
    public static OpenAiServer start(ClassicActorSystemProvider system, String host, int port, ServedModel model,
                                     GenerationClient client, Access access, WarmupSecret warmup) {
        OpenAiServer s = new OpenAiServer(model, client, Materializer.matFromSystem(system), access.keys(), warmup);
        // No request timeout: a whole (non-streamed) completion may take long; an idle connection still ends.
        ServerSettings settings = ServerSettings.create(ConfigFactory.parseString(
                "pekko.http.server.request-timeout = infinite\n"
                        + "pekko.http.server.idle-timeout = 300 s\n"
                        + "pekko.http.server.parsing.max-content-length = " + MAX_BODY_BYTES)
                .withFallback(system.classicSystem().settings().config()));
        // Per connection, so a closed connection can cancel the whole (non-streamed) generations it waits for.
        var server = Http.get(system).newServerAt(host, port).withSettings(settings);
        if (access.tls() != null) {
            javax.net.ssl.SSLContext tls = PemSslContext.server(access.tls());
            boolean clientCerts = access.tls().clientCa() != null;
            server = server.enableHttps(ConnectionContext.httpsServer(() -> {
                javax.net.ssl.SSLEngine engine = tls.createSSLEngine();
                engine.setUseClientMode(false);
                // --tls-client-ca: a client without a certificate that CA signed fails its handshake
                engine.setNeedClientAuth(clientCerts);
                return engine;
            }));
        }
        s.binding = server.connectionSource()
                .to(Sink.foreach(c -> c.handleWith(s.connectionFlow(), s.materializer)))
                .run(s.materializer).toCompletableFuture().join();
        return s;
    }

    /** The port bound. */
    public int port() {
        return binding.localAddress().getPort();
    }

    private Flow<HttpRequest, HttpResponse, NotUsed> connectionFlow() {
        ClientConnection connection = new ClientConnection();
        return Flow.of(HttpRequest.class)
                .watchTermination((mat, done) -> {
                    done.whenComplete((d, e) -> connection.closed());
                    return mat;
                })
                .mapAsync(1, r -> handle(r, connection));
    }

    private CompletionStage<HttpResponse> handle(HttpRequest request, ClientConnection connection) {
        String path = request.getUri().path();
        boolean own = warmup != null && warmup.matches(request.getHeader(WarmupSecret.HEADER).map(h -> h.value())
                .orElse(null));
        if (!own && keys != null && !keys.accepts(bearer(request))) {
            request.discardEntityBytes(materializer);
            return CompletableFuture.completedFuture(error(ApiError.unauthorized(
                    request.getHeader("Authorization").isPresent()
                            ? "the API key in 'Authorization' is not one of the server's keys"
                            : "no API key: send the header 'Authorization: Bearer <key>'")));
        }
        boolean post = request.method().equals(HttpMethods.POST);
        boolean get = request.method().equals(HttpMethods.GET);
        if (post && path.equals("/v1/chat/completions")) {
            return withBody(request, body -> generate(ApiRequest.Endpoint.CHAT, body, connection, own));
        }
        if (post && path.equals("/v1/completions")) {
            return withBody(request, body -> generate(ApiRequest.Endpoint.COMPLETION, body, connection, own));
        }
        request.discardEntityBytes(materializer);
        if (get && path.equals("/v1/models")) {
            ObjectNode list = json.createObjectNode();
            list.put("object", "list");
            modelJson(list.putArray("data").addObject());
            return CompletableFuture.completedFuture(ok(list));
        }
        if (get && path.startsWith("/v1/models/")) {
            String id = path.substring("/v1/models/".length());
            if (!id.equals(parser.modelId())) {
                return CompletableFuture.completedFuture(error(ApiError.unknownModel(id, parser.modelId())));
            }
            return CompletableFuture.completedFuture(ok(modelJson(json.createObjectNode())));
        }
        return CompletableFuture.completedFuture(error(ApiError.notFound(request.method().name(), path)));
    }

    private static String bearer(HttpRequest request) {
        return ApiKeys.bearer(request.getHeader("Authorization").map(h -> h.value()).orElse(null));
    }

    private ObjectNode modelJson(ObjectNode m) {
        m.put("id", parser.modelId());
        m.put("object", "model");
        m.put("created", created);
        m.put("owned_by", "catena");
        return m;
    }

    private CompletionStage<HttpResponse> withBody(HttpRequest request,
                                                   java.util.function.Function<byte[], CompletionStage<HttpResponse>> f) {
        return request.entity().toStrict(BODY_TIMEOUT_MS, materializer)
                // bytes, not a decoded string: Jackson refuses invalid UTF-8 where a decoder would put U+FFFD
                .thenCompose(strict -> f.apply(strict.getData().toArray()))
                .exceptionally(e -> error(Errors.of(e)));
    }

    private CompletionStage<HttpResponse> generate(ApiRequest.Endpoint endpoint, byte[] text,
                                                   ClientConnection connection, boolean own) {
        ApiRequest request;
        JsonNode body;
        try {
            body = json.readTree(text);
        } catch (JsonProcessingException e) {
            return CompletableFuture.completedFuture(error(ApiError.badRequest(null,
                    "request body is not valid JSON: " + e.getOriginalMessage())));
        } catch (java.io.IOException e) {
            // reading a byte array fails only on its content
            return CompletableFuture.completedFuture(error(ApiError.badRequest(null,
                    "request body is not valid JSON: " + e.getMessage())));
        }
        try {
            request = parser.parse(endpoint, body);
        } catch (ApiError e) {
            return CompletableFuture.completedFuture(error(e));
        }
        String id = (endpoint == ApiRequest.Endpoint.CHAT ? "chatcmpl-" : "cmpl-")
                + UUID.randomUUID().toString().replace("-", "");
        ResponseWriter writer = new ResponseWriter(json, model.tokenizer(), request, parser.modelId(), id,
                System.currentTimeMillis() / 1000);
        try {
            return request.stream() ? stream(request, writer, connection, own) : whole(request, writer, connection, own);
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(error(Errors.of(e)));
        }
    }

    private CompletionStage<HttpResponse> whole(ApiRequest request, ResponseWriter writer,
                                                ClientConnection connection, boolean own) {
        CollectingSink sink = new CollectingSink();
        GenerationHandle handle = client.generate(request.generation(), sink, own);
        connection.started(handle, () -> {
            handle.cancel();
            sink.cancelled();
        });
        return sink.result().handle((r, e) -> {
            connection.finished(handle);
            return e != null ? error(Errors.of(e))
                    : ok(writer.complete(r.text(), r.logprobs(), r.finishReason(), r.usage()));
        });
    }

    /**
     * Streams as server-sent events. The status waits for the first output: a generation that
     * fails before it (rejected by the stages, no replica within the failover wait) is answered
     * with its error status, not a 200 carrying an error event.
     */
    private CompletionStage<HttpResponse> stream(ApiRequest request, ResponseWriter writer,
                                                 ClientConnection connection, boolean own) {
        Pair<BoundedSourceQueue<ByteString>, Source<ByteString, NotUsed>> queued =
                Source.<ByteString>queue(SseSink.CAPACITY).preMaterialize(materializer);
        SseSink sink = new SseSink(queued.first(), writer, json, request.includeUsage());
        GenerationHandle handle;
        try {
            handle = client.generate(request.generation(), sink, own);
        } catch (RuntimeException e) {
            queued.first().complete();
            queued.second().runWith(Sink.ignore(), materializer);
            throw e;
        }
        sink.attach(handle);
        // Until the response stream runs (and after, if it never does), a closed connection cancels.
        connection.started(handle, sink::terminated);
        sink.ended().thenRun(() -> connection.finished(handle));
        Source<ByteString, NotUsed> events = queued.second()
                .map(b -> {
                    sink.delivered();
                    return b;
                })
                .watchTermination((mat, done) -> {
                    done.whenComplete((d, e) -> sink.terminated());
                    return mat;
                });
        return sink.started().thenApply(failed -> {
            if (failed != null) {
                queued.second().runWith(Sink.ignore(), materializer);
                return error(failed);
            }
            return HttpResponse.create()
                    .addHeader(RawHeader.create("Cache-Control", "no-cache"))
                    .withEntity(HttpEntities.create(MediaTypes.TEXT_EVENT_STREAM.toContentType(), events));
        });
    }

    private HttpResponse ok(JsonNode body) {
        return HttpResponse.create().withStatus(200).withEntity(ContentTypes.APPLICATION_JSON, bytes(body));
    }

    private HttpResponse error(ApiError e) {
        HttpResponse r = HttpResponse.create().withStatus(e.status())
                .withEntity(ContentTypes.APPLICATION_JSON, bytes(e.toJson(json)));
        if (e.retryAfterSeconds() > 0) {
            r = r.addHeader(RawHeader.create("Retry-After", Long.toString(e.retryAfterSeconds())));
        }
        return r;
    }

    private byte[] bytes(JsonNode body) {
        try {
            return json.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize a response", e);
        }
    }

    @Override
    public void close() {
        if (binding != null) {
            binding.terminate(Duration.ofSeconds(5)).toCompletableFuture().orTimeout(10, TimeUnit.SECONDS)
                    .exceptionally(e -> null).join();
        }
    }
}
