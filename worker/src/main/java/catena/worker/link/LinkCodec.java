package catena.worker.link;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.NotSerializableException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;

/**
 * Frames on a link: the connection opens with {@link #MAGIC}; then each message is
 * {@code int length, int serializerId, short manifestLength, manifest (UTF-8), payload}, the payload
 * written by the serializer Pekko's configuration binds to the message (the same bytes remoting
 * would send).
 */
final class LinkCodec {
    /** "CTL1": a stray connection or another version is refused at once. */
    static final int MAGIC = 0x43544c31;
    /** Larger than any ring message (a batch is capped at 1.5 MB of activations). */
    static final int MAX_FRAME = 64 << 20;

    private final Serialization serialization;

    LinkCodec(ActorSystem system) {
        this.serialization = SerializationExtension.get(system);
    }

    ByteBuffer encode(Object message) throws NotSerializableException {
        Serializer serializer = serialization.findSerializerFor(message);
        byte[] manifest = Serializers.manifestFor(serializer, message).getBytes(StandardCharsets.UTF_8);
        byte[] payload = serializer.toBinary(message);
        if (payload.length > MAX_FRAME) {
            throw new NotSerializableException(message.getClass().getName() + " of " + payload.length
                    + " bytes is larger than a link frame (" + MAX_FRAME + ")");
        }
        ByteBuffer frame = ByteBuffer.allocate(4 + 4 + 2 + manifest.length + payload.length);
        frame.putInt(payload.length).putInt(serializer.identifier()).putShort((short) manifest.length).put(manifest)
                .put(payload).flip();
        return frame;
    }

    /** The next message; throws at the end of the stream or on a malformed frame. */
    Object decode(DataInputStream in) throws IOException {
        int length = in.readInt();
        int serializerId = in.readInt();
        int manifestLength = in.readUnsignedShort();
        if (length < 0 || length > MAX_FRAME) {
            throw new IOException("link frame of " + length + " bytes (at most " + MAX_FRAME + ")");
        }
        byte[] manifest = new byte[manifestLength];
        in.readFully(manifest);
        byte[] payload = new byte[length];
        in.readFully(payload);
        try {
            return serialization.deserialize(payload, serializerId, new String(manifest, StandardCharsets.UTF_8)).get();
        } catch (RuntimeException e) {
            throw new IOException("undecodable link frame (serializer " + serializerId + "): " + e.getMessage(), e);
        }
    }
}
