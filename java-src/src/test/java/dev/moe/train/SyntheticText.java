package dev.moe.train;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * English-like text for tests: sentences of words drawn with Zipf-like frequencies from a fixed word list,
 * with a first-order dependence (each word prefers a successor), capitals and punctuation. Learnable at
 * byte level in a few dozen steps, and the same for a seed on every machine.
 */
final class SyntheticText {
    private static final String[] WORDS = ("the of and to in is was that for it with as his on be at by had are but from "
            + "or have an they which one you were her all she there would their we him been has when who will more no if "
            + "out so said what up its about into than them can only other new some could time these two may then do "
            + "first any my now such like our over man me even most made after also did many before must through back "
            + "years where much your way well down should because each just those people how too little state good very "
            + "make world still own see men work long get here between both life being under never day same another know "
            + "while last might us great old year off come since against go came right used take three").split(" ");

    private SyntheticText() {}

    /**
     * About {@code bytes} bytes of text.
     *
     * @param bytes the length wanted
     * @param seed  the seed
     * @return the text
     */
    static byte[] generate(int bytes, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        StringBuilder sb = new StringBuilder(bytes + 64);
        int prev = 0;
        boolean start = true;
        while (sb.length() < bytes) {
            int w;
            if (rnd.nextInt(3) == 0) {
                w = (prev * 7 + 3) % WORDS.length;  // the preferred successor
            } else {
                double u = rnd.nextDouble();
                w = (int) (WORDS.length * u * u * u);  // Zipf-like: small indices far more often
            }
            String word = WORDS[w];
            sb.append(start ? Character.toUpperCase(word.charAt(0)) + word.substring(1) : word);
            start = false;
            int end = rnd.nextInt(12);
            if (end == 0) {
                sb.append(". ");
                start = true;
            } else if (end == 1) {
                sb.append(", ");
            } else {
                sb.append(' ');
            }
            prev = w;
        }
        return sb.substring(0, bytes).getBytes(StandardCharsets.US_ASCII);
    }
}
