package catena.gateway.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import catena.v1.GenerateRequest;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import org.junit.jupiter.api.Test;

class Utf8GuardTest {
    /** The UTF-8-like bytes of a lone high surrogate (U+D800), which UTF-8 forbids. */
    private static final byte[] LONE_SURROGATE = {(byte) 0xED, (byte) 0xA0, (byte) 0x80};

    private static ByteString field(int number, byte[] value) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CodedOutputStream c = CodedOutputStream.newInstance(out);
        c.writeByteArray(number, value);
        c.flush();
        return ByteString.copyFrom(out.toByteArray());
    }

    private static byte[] text(String prefix) {
        byte[] p = prefix.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] b = new byte[p.length + LONE_SURROGATE.length];
        System.arraycopy(p, 0, b, 0, p.length);
        System.arraycopy(LONE_SURROGATE, 0, b, p.length, LONE_SURROGATE.length);
        return b;
    }

    @Test
    void shouldNameATopLevelStringFieldAndTheOffsetOfTheBadByte() throws Exception {
        ByteString request = field(1, text("Hello"));
        assertThat(Utf8Guard.invalidUtf8(request, GenerateRequest.getDescriptor(), ""))
                .startsWith("field text: not valid UTF-8 (byte 0xED at offset 5)");
    }

    @Test
    void shouldNameANestedRepeatedField() throws Exception {
        ByteString good = field(2, "fine".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        ByteString bad = field(2, text(""));
        // chat (2) { messages (1) [ {content: "fine"}, {content: <bad>} ] }
        ByteString chat = field(1, good.toByteArray()).concat(field(1, bad.toByteArray()));
        ByteString request = field(2, chat.toByteArray());
        assertThat(Utf8Guard.invalidUtf8(request, GenerateRequest.getDescriptor(), ""))
                .startsWith("field chat.messages[1].content: not valid UTF-8 (byte 0xED at offset 0)");
    }

    @Test
    void shouldFindNothingInValidText() throws Exception {
        ByteString request = GenerateRequest.newBuilder().setText("héllo ✓").addStop("\n").build().toByteString();
        assertThat(Utf8Guard.invalidUtf8(request, GenerateRequest.getDescriptor(), "")).isNull();
    }
}
