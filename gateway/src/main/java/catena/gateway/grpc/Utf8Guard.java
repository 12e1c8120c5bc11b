package catena.gateway.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Turns a request whose string field holds invalid UTF-8 into {@code INVALID_ARGUMENT} naming the
 * field, where grpc-java would answer {@code UNKNOWN: Application error processing RPC}: proto3
 * parsing rejects such bytes inside the marshaller, before any service code runs, and grpc-java
 * reports every exception there as an application error.
 *
 * <p>The guarded marshaller parses as before; only when that fails does it look for the field,
 * parsing the bytes as unknown fields (which checks no UTF-8) along the message's descriptor, and
 * hand on an empty request marked with the finding, which the interceptor answers.
 */
public final class Utf8Guard {
    /** The largest field number protobuf allows: no schema of ours uses it. */
    static final int MARK = 536_870_911;

    private Utf8Guard() {
    }

    /** {@code service} with every protobuf request marshaller guarded and the marked requests refused. */
    public static ServerServiceDefinition guard(ServerServiceDefinition service) {
        ServiceDescriptor sd = service.getServiceDescriptor();
        ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(sd.getName())
                .setSchemaDescriptor(sd.getSchemaDescriptor());
        List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
        for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
            ServerMethodDefinition<?, ?> g = guard(m);
            methods.add(g);
            descriptor.addMethod(g.getMethodDescriptor());
        }
        ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(descriptor.build());
        methods.forEach(b::addMethod);
        return ServerInterceptors.intercept(b.build(), new Refuser());
    }

    @SuppressWarnings("unchecked")
    private static <Q, R> ServerMethodDefinition<Q, R> guard(ServerMethodDefinition<Q, R> m) {
        MethodDescriptor<Q, R> md = m.getMethodDescriptor();
        if (!(md.getRequestMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<Q> pm)
                || !(pm.getMessagePrototype() instanceof Message prototype)) {
            return m;
        }
        MethodDescriptor.Marshaller<Q> guarded = new MethodDescriptor.Marshaller<>() {
            @Override
            public InputStream stream(Q value) {
                return pm.stream(value);
            }

            @Override
            public Q parse(InputStream in) {
                byte[] bytes;
                try {
                    bytes = in.readAllBytes();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                try {
                    return pm.parse(new java.io.ByteArrayInputStream(bytes));
                } catch (StatusRuntimeException e) {
                    String problem = invalidUtf8(ByteString.copyFrom(bytes), prototype.getDescriptorForType(), "");
                    if (problem == null) {
                        throw e;
                    }
                    return (Q) prototype.newBuilderForType().setUnknownFields(UnknownFieldSet.newBuilder()
                            .addField(MARK, UnknownFieldSet.Field.newBuilder()
                                    .addLengthDelimited(ByteString.copyFromUtf8(problem)).build())
                            .build()).build();
                }
            }
        };
        return ServerMethodDefinition.create(md.toBuilder().setRequestMarshaller(guarded).build(),
                m.getServerCallHandler());
    }

    /**
     * The first string field (depth first, in field order) of {@code bytes}, a message of
     * {@code type}, that is not valid UTF-8, as "field PATH: ..."; null if there is none.
     */
    static String invalidUtf8(ByteString bytes, Descriptor type, String path) {
        UnknownFieldSet fields;
        try {
            fields = UnknownFieldSet.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            return null;
        }
        for (Map.Entry<Integer, UnknownFieldSet.Field> e : fields.asMap().entrySet()) {
            FieldDescriptor fd = type.findFieldByNumber(e.getKey());
            if (fd == null) {
                continue;
            }
            List<ByteString> values = e.getValue().getLengthDelimitedList();
            for (int i = 0; i < values.size(); i++) {
                String name = path + fd.getName() + (fd.isRepeated() ? "[" + i + "]" : "");
                ByteString v = values.get(i);
                if (fd.getType() == FieldDescriptor.Type.STRING && !v.isValidUtf8()) {
                    int at = firstInvalid(v);
                    return "field " + name + ": not valid UTF-8 (byte 0x" + String.format("%02X", v.byteAt(at) & 0xFF)
                            + " at offset " + at + "); strings must be UTF-8 (a lone UTF-16 surrogate cannot be encoded)";
                }
                if (fd.getType() == FieldDescriptor.Type.MESSAGE) {
                    String inner = invalidUtf8(v, fd.getMessageType(), name + ".");
                    if (inner != null) {
                        return inner;
                    }
                }
            }
        }
        return null;
    }

    private static int firstInvalid(ByteString v) {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = v.asReadOnlyByteBuffer();
        CharBuffer out = CharBuffer.allocate(v.size() + 1);
        CoderResult r = d.decode(in, out, true);
        return r.isError() ? in.position() : Math.max(0, v.size() - 1);
    }

    /** Answers a marked request with {@code INVALID_ARGUMENT}; the service never sees it. */
    private static final class Refuser implements ServerInterceptor {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                           ServerCallHandler<Q, R> next) {
            return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
                private boolean refused;

                @Override
                public void onMessage(Q message) {
                    if (message instanceof Message m && m.getUnknownFields().hasField(MARK)) {
                        refused = true;
                        call.close(Status.INVALID_ARGUMENT.withDescription(m.getUnknownFields().getField(MARK)
                                .getLengthDelimitedList().getFirst().toStringUtf8()), new Metadata());
                        return;
                    }
                    super.onMessage(message);
                }

                @Override
                public void onHalfClose() {
                    if (!refused) {
                        super.onHalfClose();
                    }
                }

                @Override
                public void onReady() {
                    if (!refused) {
                        super.onReady();
                    }
                }
            };
        }
    }
}
