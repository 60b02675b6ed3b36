// tests/runtimes/LeakDirect.java - a direct ByteBuffer kept until exit: 8 MiB of
// native memory (Unsafe.allocateMemory -> malloc -> mmap) that the program owns.
import java.nio.ByteBuffer;

public class LeakDirect {
    static ByteBuffer kept;

    public static void main(String[] args) {
        kept = ByteBuffer.allocateDirect(8 << 20);
        kept.put(0, (byte) 1);
        System.out.println("direct " + kept.capacity());
    }
}
