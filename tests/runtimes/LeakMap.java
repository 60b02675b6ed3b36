// tests/runtimes/LeakMap.java - FileChannel.map of the file named by args[0],
// 4 MiB, the MappedByteBuffer kept referenced until exit (never unmapped).
import java.io.RandomAccessFile;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;

public class LeakMap {
    static MappedByteBuffer kept;

    public static void main(String[] args) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(args[0], "rw")) {
            f.setLength(4 << 20);
            kept = f.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, 4 << 20);
        }
        kept.put(0, (byte) 1);
        System.out.println("mapped " + kept.capacity());
    }
}
