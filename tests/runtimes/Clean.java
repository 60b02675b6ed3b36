// tests/runtimes/Clean.java - a small Java program that leaks nothing: the
// JVM's own reservations (heap, metaspace, CDS, code cache) are all vmleak sees.
import java.util.ArrayList;
import java.util.List;

public class Clean {
    public static void main(String[] args) {
        List<String> words = new ArrayList<>();
        long sum = 0;
        for (int i = 0; i < 200000; i++) {
            words.add("w" + i);
            if (words.size() > 1000)
                words.clear();
            sum += i;
        }
        System.out.println("clean " + sum);
    }
}
